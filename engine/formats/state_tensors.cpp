// state_tensors.cpp: writing, reading and scanning lists of StateTensor (see state_tensors.h).
#include "formats/state_tensors.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "formats/checkpoint.h"

namespace sac {
namespace {

using Memory = StateTensor::Memory;
using Scan = StateTensor::Scan;

// bytes of one value of `dtype`
size_t value_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  throw std::logic_error("state tensor dtype '" + dtype + "' is not F32, F64 or I64");
}

size_t tensor_bytes(const StateTensor& t) { return (size_t)t.count() * value_bytes(t.dtype); }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string value_text(double v) { return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"); }

// the values of `t` as bytes in host memory
std::vector<uint8_t> host_bytes(const StateTensor& t, Backend& backend) {
  std::vector<uint8_t> bytes(tensor_bytes(t));
  if (bytes.empty()) return bytes;
  if (t.memory == Memory::kBackend)
    backend.download(bytes.data(), t.data, bytes.size());
  else
    std::memcpy(bytes.data(), t.data, bytes.size());
  return bytes;
}

bool scanned(const StateTensor& t, bool with_losses, bool with_moments) {
  return t.scan == Scan::kAlways || (t.scan == Scan::kWithLosses && with_losses) ||
         (t.scan == Scan::kWithMoments && with_moments);
}

// what a message calls value i of `t`
std::string value_label(const StateTensor& t, size_t i) {
  if (i < t.labels.size()) return t.labels[i];
  return t.count() == 1 ? t.name : t.name + "[" + std::to_string(i) + "]";
}

}  // namespace

void put_state_tensors(SafetensorsFile& file, const std::vector<StateTensor>& list,
                       Backend& backend) {
  for (const StateTensor& t : list) {
    Tensor out;
    out.dtype = t.dtype;
    out.shape = t.shape;
    out.bytes = host_bytes(t, backend);
    if (!file.tensors.emplace(t.name, std::move(out)).second)
      throw std::logic_error("state tensor '" + t.name + "' is listed twice");
  }
}

void read_state_tensors(const SafetensorsFile& file, const std::string& path,
                        const std::vector<StateTensor>& list) {
  auto fail = [&](const std::string& what) {
    return CheckpointError("checkpoint '" + path + "': " + what);
  };
  // ---- every tensor is there, of its dtype and shape
  for (const StateTensor& t : list) {
    auto it = file.tensors.find(t.name);
    if (it == file.tensors.end()) throw fail("tensor '" + t.name + "' is missing");
    const Tensor& found = it->second;
    if (found.dtype != t.dtype)
      throw fail("tensor '" + t.name + "' is " + found.dtype + ", expected " + t.dtype);
    if (found.shape != t.shape || found.bytes.size() != tensor_bytes(t))
      throw fail("tensor '" + t.name + "' has shape " + shape_text(found.shape) +
                 ", this run needs " + shape_text(t.shape) +
                 " (a checkpoint of another network or task?)");
  }
  // ---- then the host values
  for (const StateTensor& t : list) {
    const Tensor& found = file.tensors.at(t.name);
    if (t.memory == Memory::kHost && !found.bytes.empty())
      std::memcpy(t.data, found.bytes.data(), found.bytes.size());
  }
}

void upload_state_tensors(const SafetensorsFile& file, const std::vector<StateTensor>& list,
                          Backend& backend) {
  for (const StateTensor& t : list) {
    const Tensor& found = file.tensors.at(t.name);
    if (t.memory == Memory::kBackend && !found.bytes.empty())
      backend.upload(t.data, found.bytes.data(), found.bytes.size());
  }
}

std::string first_non_finite(const std::vector<StateTensor>& list, Backend& backend,
                             bool with_losses, bool with_moments) {
  for (const StateTensor& t : list) {
    if (!scanned(t, with_losses, with_moments)) continue;
    if (t.dtype == "I64") throw std::logic_error("state tensor '" + t.name + "': I64 is scanned");
    std::vector<uint8_t> bytes = host_bytes(t, backend);
    for (size_t i = 0; i < (size_t)t.count(); ++i) {
      double v;
      if (t.dtype == "F32") {
        float f;
        std::memcpy(&f, bytes.data() + i * sizeof f, sizeof f);
        v = f;
      } else {
        std::memcpy(&v, bytes.data() + i * sizeof v, sizeof v);
      }
      if (!std::isfinite(v)) return value_label(t, i) + " = " + value_text(v);
    }
  }
  return "";
}

}  // namespace sac

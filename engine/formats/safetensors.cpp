// safetensors.cpp: the safetensors layout, its checksum and atomic file writes.
#include "sac/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "formats/quoted.h"

namespace sac {
namespace {

constexpr const char* kChecksumPrefix = "fnv1a64:";

// FNV-1a 64
struct Fnv1a64 {
  uint64_t h = 14695981039346656037ull;
  void feed(const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    uint64_t x = h;
    for (size_t i = 0; i < n; ++i) x = (x ^ p[i]) * 1099511628211ull;
    h = x;
  }
  void feed(const std::string& s) { feed(s.data(), s.size()); }
  void zero() { feed("\0", 1); }
};

size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "I64" || dtype == "F64") return 8;
  throw std::runtime_error("unsupported dtype " + quoted_text(dtype));
}

void fsync_dir_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Tensor Tensor::from_floats(const std::vector<float>& values, std::vector<int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(float));
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

std::vector<float> Tensor::floats() const {
  if (dtype != "F32") throw InputError("tensor is " + dtype + ", expected F32");
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  // a failed write leaves nothing behind: the temp file goes, `path` stays as it was
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    return std::runtime_error(what + ": " + std::strerror(err));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw fail("cannot write '" + tmp + "'", err);
    }
    done += (size_t)n;
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    throw fail("cannot flush '" + tmp + "'", err);
  }
  if (::close(fd) != 0) throw fail("cannot flush '" + tmp + "'", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw fail("cannot rename '" + tmp + "' to '" + path + "'", errno);
  fsync_dir_of(path);
}

void SafetensorsFile::save(const std::string& path) const { write_file_atomic(path, bytes()); }

std::string SafetensorsFile::bytes() const {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data block to 8 bytes
  std::string out(8, '\0');
  uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) out[i] = (char)((n >> (8 * i)) & 0xff);
  out += head;
  out.reserve(out.size() + offset);
  for (const auto& [name, t] : tensors) out.append((const char*)t.bytes.data(), t.bytes.size());
  return out;
}

SafetensorsFile SafetensorsFile::load(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw InputError("cannot read '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw InputError("cannot read '" + path + "': not a regular file");
  std::string data;
  try {  // libstdc++ throws on a read error (EIO) even without an exception mask
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read '" + path + "': " + std::strerror(errno));
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw InputError("cannot read '" + path + "': I/O error");
  } catch (const std::ios_base::failure& e) {
    throw InputError("cannot read '" + path + "': " + e.what());
  }
  return parse(data, path);
}

SafetensorsFile SafetensorsFile::parse(const std::string& data, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return InputError("'" + path + "' is not a valid safetensors file: " + what);
  };
  if (data.size() < 8) throw bad("shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= (uint64_t)(uint8_t)data[i] << (8 * i);
  if (n > data.size() - 8) throw bad("header length " + std::to_string(n) + " exceeds the file");
  nlohmann::json header = nlohmann::json::parse(data.begin() + 8, data.begin() + 8 + n, nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw bad("header is not a JSON object");
  SafetensorsFile f;
  size_t body = 8 + n, body_size = data.size() - body, covered = 0;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) throw bad("__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string())
          throw bad("metadata value " + quoted_text(m.key()) + " is not a string");
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
        !e.contains("data_offsets") || !e["dtype"].is_string() || !e["shape"].is_array() ||
        !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
      throw bad("entry " + quoted_text(it.key()) + " lacks dtype, shape or data_offsets");
    Tensor t;
    t.dtype = e["dtype"].get<std::string>();
    size_t elem;
    try {
      elem = dtype_size(t.dtype);
    } catch (const std::exception& ex) {
      throw bad("entry " + quoted_text(it.key()) + ": " + ex.what());
    }
    uint64_t count = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) throw bad("entry " + quoted_text(it.key()) + " has a bad shape");
      uint64_t dim = d.get<uint64_t>();
      if (dim && count > (1ull << 40) / dim)
        throw bad("entry " + quoted_text(it.key()) + " is too large");
      count *= dim;
      t.shape.push_back((int64_t)dim);
    }
    const auto& off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad("entry " + quoted_text(it.key()) + " has bad data_offsets");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > body_size || end - begin != count * elem)
      throw bad("entry " + quoted_text(it.key()) +
                " data_offsets do not match its shape or the file size");
    t.bytes.assign(data.begin() + body + begin, data.begin() + body + end);
    covered += t.bytes.size();
    f.tensors[it.key()] = std::move(t);
  }
  // as in Python's package: nothing may follow the tensors (truncated or extended files)
  if (covered != body_size)
    throw bad("the tensors cover " + std::to_string(covered) + " of the " +
              std::to_string(body_size) + " data bytes (truncated or extended)");
  return f;
}

SafetensorsFile SafetensorsFile::load_verified(const std::string& path,
                                               const std::set<std::string>& legacy_keys) {
  SafetensorsFile f = load(path);
  f.verify_checksum(path, legacy_keys);
  return f;
}

// ---- checksum (definition in safetensors.h)

std::string SafetensorsFile::checksum() const {
  Fnv1a64 h;
  for (const auto& [key, value] : metadata) {
    if (key == "checksum") continue;
    h.feed(key), h.zero(), h.feed(value), h.zero();
  }
  for (const auto& [name, t] : tensors) {
    std::string dims;
    for (size_t i = 0; i < t.shape.size(); ++i) dims += (i ? "," : "") + std::to_string(t.shape[i]);
    h.feed(name), h.zero(), h.feed(t.dtype), h.zero(), h.feed(dims), h.zero();
    h.feed(t.bytes.data(), t.bytes.size());
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h.h);
  return kChecksumPrefix + std::string(hex);
}

void SafetensorsFile::stamp_checksum() { metadata["checksum"] = checksum(); }

void SafetensorsFile::verify_checksum(const std::string& path,
                                      const std::set<std::string>& legacy_keys) const {
  auto it = metadata.find("checksum");
  if (it == metadata.end()) {
    std::set<std::string> keys;
    for (const auto& kv : metadata) keys.insert(kv.first);
    if (legacy_keys.empty() || keys != legacy_keys)
      throw InputError("'" + path + "' has no checksum in its metadata: the file is corrupted");
    std::fprintf(stderr,
                 "sac: warning: '%s' has no checksum (written before checksums existed); "
                 "loading it unverified\n",
                 path.c_str());
    return;
  }
  std::string computed = checksum();
  if (it->second != computed)
    throw InputError("'" + path + "': checksum mismatch (stored " + escaped_text(it->second) +
                     ", computed " + computed + "): the file is corrupted");
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw InputError("tensor " + quoted_text(name) + " is missing");
  return it->second;
}

}  // namespace sac

// safetensors.h: reading and writing safetensors files (8-byte little-endian header length,
// JSON header with dtype, shape and data_offsets per tensor plus "__metadata__", then the raw
// little-endian tensor bytes). Files load as they are in Python's `safetensors` package.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sac {

struct Tensor {
  std::string dtype = "F32";  // F32 or I64
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  static Tensor from_floats(const std::vector<float>& values, std::vector<int64_t> shape);
  std::vector<float> floats() const;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;

  /// Writes atomically: temp file, fsync, rename, fsync of the folder.
  void save(const std::string& path) const;
  /// Reads and checks the whole layout; throws std::runtime_error naming the path and problem.
  static SafetensorsFile load(const std::string& path);
  const Tensor& at(const std::string& name) const;
};

/// Writes `content` to `path` atomically (temp file, fsync, rename, fsync of the folder).
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace sac

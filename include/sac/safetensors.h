// safetensors.h: reading and writing safetensors files (8-byte little-endian header length,
// JSON header with dtype, shape and data_offsets per tensor plus "__metadata__", then the raw
// little-endian tensor bytes). Files load as they are in Python's `safetensors` package.
//
// Integrity: every file the engine writes and later reads back (checkpoints, their replay
// files, policy files) carries metadata "checksum" = "fnv1a64:<16 hex digits>", FNV-1a 64 over
//   for each metadata key except "checksum", in byte order:  key 0x00 value 0x00
//   for each tensor, in name order (the data block's order):  name 0x00 dtype 0x00
//                                                              dims joined by ',' 0x00 bytes
// so any change to the header's meaning or to the data block is detected on load
// (load_verified; tests/check_safetensors.py recomputes it in Python).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sac/errors.h"

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

  /// Writes atomically: temp file, fsync, rename, fsync of the folder. Throws std::runtime_error
  /// (disk full, I/O error) after removing the temp file.
  void save(const std::string& path) const;
  /// The file's bytes, as save() writes them.
  std::string bytes() const;
  /// Reads and checks the whole layout (the tensors fill the data block exactly); throws
  /// InputError naming the path and the problem. Does not look at the checksum.
  static SafetensorsFile load(const std::string& path);
  /// load() of bytes already in memory (`data`: the whole file); `path` names it in errors.
  static SafetensorsFile parse(const std::string& data, const std::string& path);
  /// load(), then verify_checksum(path, legacy_keys): what every loader of an engine-written
  /// file calls.
  static SafetensorsFile load_verified(const std::string& path,
                                       const std::set<std::string>& legacy_keys = {});
  const Tensor& at(const std::string& name) const;

  /// The checksum of the contents as stored in the metadata: "fnv1a64:<16 hex digits>".
  std::string checksum() const;
  /// Stores checksum() in metadata["checksum"]; call it last, after every other change.
  void stamp_checksum();
  /// Throws InputError naming `path` and both checksums when metadata["checksum"] differs from
  /// checksum(). A file without a checksum is refused, unless its metadata keys are exactly
  /// `legacy_keys` (the layout of a file kind written before checksums existed): that one is
  /// accepted with a one-line warning on stderr. A single flipped byte cannot pass for such a
  /// file: it changes at most one key, and the key set then differs.
  void verify_checksum(const std::string& path,
                       const std::set<std::string>& legacy_keys = {}) const;
};

/// Writes `content` to `path` atomically (temp file, fsync, rename, fsync of the folder). On
/// failure (disk full, I/O error) removes the temp file and throws std::runtime_error; `path`
/// keeps its previous contents.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace sac

// tfrecord.h: TFRecord framing, the container of TensorBoard's event files: each record is its
// length (8 bytes, little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked
// CRC-32C of the data (crc32c.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sac {

/// `data` framed as one record.
std::string tfrecord(const std::string& data);

/// The records of `bytes` (a file's contents), in order, up to the first one that is incomplete
/// or fails its checksums: a file cut short by a crash keeps its complete records. `complete`
/// (nullable) tells whether every byte belonged to a good record.
std::vector<std::string> read_tfrecords(const std::string& bytes, bool* complete = nullptr);

}  // namespace sac

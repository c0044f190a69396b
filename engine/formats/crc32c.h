// crc32c.h: CRC-32C (Castagnoli), the checksum of TFRecord framing (tfrecord.h), and the
// "masked" form TFRecord stores, which keeps a CRC of data that itself holds CRCs from being
// trivially related to it. Table-driven, one byte at a time: event files are small.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sac {

/// CRC-32C of `size` bytes at `data` (crc32c("123456789") = 0xE3069283).
uint32_t crc32c(const void* data, size_t size);

/// TFRecord's masked CRC: the CRC rotated right by 15 bits plus 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

}  // namespace sac

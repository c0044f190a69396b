// tfrecord.cpp: TFRecord framing (tfrecord.h).
#include "formats/tfrecord.h"

#include <cstring>

#include "formats/crc32c.h"

namespace sac {
namespace {

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t get_le(const std::string& in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return value;
}

}  // namespace

std::string tfrecord(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, masked_crc32c(out.data(), 8), 4);
  out += data;
  put_le(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

std::vector<std::string> read_tfrecords(const std::string& bytes, bool* complete) {
  std::vector<std::string> records;
  size_t at = 0;
  while (bytes.size() - at >= 16) {  // the smallest record: 16 bytes of framing, no data
    const uint64_t length = get_le(bytes, at, 8);
    if (get_le(bytes, at + 8, 4) != masked_crc32c(bytes.data() + at, 8)) break;
    if (length > bytes.size() - at - 16) break;  // cut short
    const char* data = bytes.data() + at + 12;
    if (get_le(bytes, at + 12 + length, 4) != masked_crc32c(data, length)) break;
    records.emplace_back(data, length);
    at += 16 + length;
  }
  if (complete) *complete = at == bytes.size();
  return records;
}

}  // namespace sac

// fuzz_safetensors.cpp: libFuzzer target of the safetensors parser (SafetensorsFile::parse, what
// load() and load_verified() run on a file's bytes: header length, header JSON, dtypes, shapes,
// data offsets, then the checksum). Every input is accepted or refused with InputError; an
// accepted file must also write back to bytes that parse to the same file.
// Run: build-fuzz/fuzz_safetensors tests/fuzz/corpus/safetensors (README.md here).
#include <string>

#include "fuzz_common.h"
#include "sac/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  sac::fuzz::expect_accept_or_refuse([&] {
    sac::SafetensorsFile f = sac::SafetensorsFile::parse(bytes, "fuzz.safetensors");
    // what was accepted writes back and reads again the same
    sac::SafetensorsFile back = sac::SafetensorsFile::parse(f.bytes(), "fuzz (written back)");
    if (back.metadata != f.metadata || back.tensors.size() != f.tensors.size())
      sac::fuzz::fail("a parsed file does not read back the same", "");
    for (const auto& [name, t] : f.tensors) {
      const sac::Tensor& u = back.at(name);
      if (u.dtype != t.dtype || u.shape != t.shape || u.bytes != t.bytes)
        sac::fuzz::fail("a tensor does not read back the same", name);
    }
    f.verify_checksum("fuzz.safetensors");
  });
  return 0;
}

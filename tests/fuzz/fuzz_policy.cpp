// fuzz_policy.cpp: libFuzzer target of the policy file loader (parse_policy: the bytes of a
// file `sac eval`, `sac rollout` and the Python module's load_policy read, checksum verified,
// then its config and its actor's tensors checked against the network that config describes).
// The first input byte picks the mode: odd, the rest of the input is parsed as a safetensors
// file and, when that succeeds, its checksum is stamped again before the policy loader sees it,
// so mutations reach the config and tensor checks behind the checksum; even, the rest goes to
// the loader as it is. Every input is accepted or refused with InputError.
// Run: build-fuzz/fuzz_policy tests/fuzz/corpus/policy (README.md here).
#include <string>

#include "fuzz_common.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool restamp = data[0] & 1;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (restamp) {
    try {
      sac::SafetensorsFile f = sac::SafetensorsFile::parse(bytes, "fuzz.safetensors");
      f.stamp_checksum();
      bytes = f.bytes();
    } catch (const sac::InputError&) {
      // not a safetensors file: the loader refuses it as it is
    }
  }
  sac::fuzz::expect_accept_or_refuse(
      [&] { sac::parse_policy(bytes, "fuzz-policy.safetensors", "cpu", 1); });
  return 0;
}

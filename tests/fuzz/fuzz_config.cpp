// fuzz_config.cpp: libFuzzer target of the config parser as `sac train CONFIG --set K=V ...`
// and the Python module run it (load_config on text: config_from_json_text, apply_override per
// `--set`, validate). The input is the config file's text, then each override on a line of its
// own after a line "--set" (or none); an empty config text is the defaults, as without a file.
// Every input is accepted or refused with ConfigError; an accepted config must print (the
// resolved config.json of a run) and read back the same. A config naming env.plugins is checked
// up to validate(), which would dlopen them.
// Run: build-fuzz/fuzz_config -dict=tests/fuzz/config.dict tests/fuzz/corpus/config
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "sac/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // the file's text, then "\n--set\n" and one override per line
  const std::string marker = "\n--set\n";
  const size_t cut = input.find(marker);
  const std::string text = input.substr(0, cut);
  std::vector<std::string> overrides;
  if (cut != std::string::npos) {
    size_t at = cut + marker.size();
    while (at <= input.size()) {
      size_t end = input.find('\n', at);
      if (end == std::string::npos) end = input.size();
      overrides.push_back(input.substr(at, end - at));
      at = end + 1;
    }
  }
  sac::fuzz::expect_accept_or_refuse([&] {
    sac::Config c = text.empty() ? sac::Config() : sac::config_from_json_text(text, "fuzz.json");
    for (const std::string& o : overrides) sac::apply_override(c, o);
    // validate() loads env.plugins (dlopen): a fuzzed path may name any library on the
    // machine, whose constructors would run in the fuzzer; the plugin loader has tests of its own
    if (!c.env_plugins.empty()) return;
    sac::validate(c);
    const std::string resolved = c.to_json().dump(2);
    sac::Config back = sac::config_from_json_text(resolved, "fuzz (resolved)");
    if (back.to_json() != c.to_json()) sac::fuzz::fail("a config does not read back the same", resolved);
  });
  return 0;
}

// fuzz_common.h: what every fuzz target asserts of the engine's answer to an input. A parser
// either accepts the input or refuses it with InputError (ConfigError, CheckpointError: `sac`
// exits 2, the Python module raises), whose message is clean text (valid UTF-8, no control
// bytes: the file's bytes are quoted through formats/quoted.h). Anything else (another
// exception, a message carrying raw bytes) aborts, which libFuzzer keeps as a crash, as it does
// ASan and UBSan reports, timeouts and allocations over -malloc_limit_mb.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "sac/errors.h"

namespace sac::fuzz {

/// True when `s` is valid UTF-8 (no overlong forms, no surrogates) without control bytes other
/// than the line break.
inline bool clean_text(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    }
    const size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                       : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t cp = c & (0xff >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

/// Runs `parse`; an InputError is a refusal whose message must be clean text, any other
/// exception aborts. With SAC_FUZZ_VERBOSE set, each refusal is printed.
template <typename Parse>
void expect_accept_or_refuse(Parse&& parse) {
  try {
    parse();
  } catch (const InputError& e) {
    if (!clean_text(e.what())) fail("a refusal's message carries raw bytes", e.what());
    // SAC_FUZZ_VERBOSE=1: each refusal on stderr (replaying one input: why it was refused)
    static const bool verbose = std::getenv("SAC_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
  } catch (const std::exception& e) {
    fail("an exception other than InputError", e.what());
  }
}

}  // namespace sac::fuzz

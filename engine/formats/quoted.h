// quoted.h: text taken from a file, made safe to show in an error message. A parser that names
// what it read (a key, a value, a CSV field, a JSON value, the JSON library's own message, which
// quotes the byte it stopped at) passes it through here, so a message never carries the file's
// raw bytes: no invalid UTF-8, no terminal escape sequences, no line breaks, no megabyte-long
// lines.
// Tests: sac_tests --gtest_filter='QuotedText*'
#pragma once
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace sac {

/// `text` with every byte outside printable ASCII (controls, DEL, bytes >= 0x80) written as
/// \xNN (\n, \r, \t as themselves), cut after `max_bytes` bytes of `text` with "..." and the
/// full length appended.
inline std::string escaped_text(const std::string& text, size_t max_bytes = 120) {
  std::string out;
  const size_t n = text.size() < max_bytes ? text.size() : max_bytes;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char ch = (unsigned char)text[i];
    if (ch == '\n') out += "\\n";
    else if (ch == '\r') out += "\\r";
    else if (ch == '\t') out += "\\t";
    else if (ch < 0x20 || ch >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    } else {
      out += (char)ch;
    }
  }
  if (n < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

/// `text` escaped as escaped_text() does, each line apart, its line breaks kept: a library's
/// multi-line message (MuJoCo's XML errors) that may quote a file's bytes. Cut after
/// `max_bytes` bytes of `text`.
inline std::string escaped_lines(const std::string& text, size_t max_bytes = 2000) {
  std::string out;
  const std::string kept = text.substr(0, max_bytes);
  size_t at = 0;
  for (;;) {
    const size_t end = kept.find('\n', at);
    out += escaped_text(kept.substr(at, end == std::string::npos ? std::string::npos : end - at),
                        max_bytes);
    if (end == std::string::npos) break;
    out += '\n';
    at = end + 1;
  }
  if (kept.size() < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

/// escaped_text(text) in single quotes, a single quote inside shown as \x27: the way every message
/// quotes what a file holds.
inline std::string quoted_text(const std::string& text, size_t max_bytes = 120) {
  std::string inner = escaped_text(text, max_bytes), out = "'";
  for (char ch : inner) out += ch == '\'' ? std::string("\\x27") : std::string(1, ch);
  return out + "'";
}

/// True when `text` is valid UTF-8 (shortest forms only, no surrogates, nothing past U+10FFFF):
/// what the JSON writer accepts in a string, so a value taken as raw text (a `--set` value that
/// is not JSON) is checked before it becomes part of a config.
inline bool is_valid_utf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char lead = p[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const size_t len = lead >= 0xc2 && lead <= 0xdf   ? 2
                       : lead >= 0xe0 && lead <= 0xef ? 3
                       : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                      : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t code = lead & (0xff >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      code = (code << 6) | (p[i + k] & 0x3f);
    }
    const bool overlong = (len == 3 && code < 0x800) || (len == 4 && code < 0x10000);
    if (overlong || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

/// A JSON value from a file as a message shows it: its JSON text, non-ASCII, controls and DEL
/// as \u escapes (invalid UTF-8 replaced), cut as escaped_text cuts.
inline std::string json_text(const nlohmann::json& value, size_t max_bytes = 120) {
  return escaped_text(value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace),
                      max_bytes);
}

}  // namespace sac

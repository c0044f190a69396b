// quoted.h: text taken from a file, made safe to show in an error message. A parser that names
// what it read (a key, a value, a CSV field, a JSON value, the JSON library's own message, which
// quotes the byte it stopped at) passes it through here, so a message never carries the file's
// raw bytes: no invalid UTF-8, no terminal escape sequences, no line breaks, no megabyte-long
// lines.
// Tests: sac_tests --gtest_filter='QuotedText*'
#pragma once
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

/// escaped_text(text) in single quotes, a single quote inside shown as \x27: the way every message
/// quotes what a file holds.
inline std::string quoted_text(const std::string& text, size_t max_bytes = 120) {
  std::string inner = escaped_text(text, max_bytes), out = "'";
  for (char ch : inner) out += ch == '\'' ? std::string("\\x27") : std::string(1, ch);
  return out + "'";
}

/// A JSON value from a file as a message shows it: its JSON text, non-ASCII, controls and DEL
/// as \u escapes (invalid UTF-8 replaced), cut as escaped_text cuts.
inline std::string json_text(const nlohmann::json& value, size_t max_bytes = 120) {
  return escaped_text(value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace),
                      max_bytes);
}

}  // namespace sac

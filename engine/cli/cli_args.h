// cli_args.h: what every `sac` subcommand shares on top of CLI11 (Debian's libcli11-dev): a
// subcommand whose work runs after the whole command line is parsed and checked, integer options
// checked against a range with `sac`'s own message, and parse_int. Bad input throws ConfigError
// (exit 2) naming the option, before any work; main.cpp turns CLI11's own errors into the same
// one-line `sac: error: ...` form.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sac/config.h"

namespace sac {

/// The work of the subcommand the command line chose, set while parsing and run after it.
using CommandRunner = std::function<int()>;

/// `text` as an integer in [lo, hi]; `what` names the option in the message.
inline int64_t parse_int(const std::string& what, const std::string& text, int64_t lo, int64_t hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  if (text.empty() || used != text.size() || v < lo || v > hi)
    throw ConfigError(what + " must be an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + text + "'");
  return v;
}

/// Adds subcommand `name` to `parent`; when the command line selects it, `run` becomes `body`
/// (main runs it once parsing is over). Arguments it does not know stay in remaining(), which
/// main reports as "unknown option '...' for 'sac NAME'".
inline CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& about,
                             CommandRunner& run, CommandRunner body) {
  CLI::App* sub = parent.add_subcommand(name, about);
  sub->allow_extras();
  sub->callback([&run, body] { run = body; });
  return sub;
}

/// Adds integer option `name` (e.g. "--steps") bound to `var`, checked to lie in [lo, hi] with the
/// message of parse_int; the help shows the range and the default.
template <typename T>
CLI::Option* add_int_option(CLI::App* app, const std::string& name, T& var, int64_t lo, int64_t hi,
                            const std::string& meaning) {
  std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return app
      ->add_option(name, var, meaning)
      // the value is checked as text before CLI11 converts it
      ->check(CLI::Validator(
          [name, lo, hi](std::string& text) {
            parse_int(name, text, lo, hi);
            return std::string();
          },
          range))
      ->type_name("INT");
}

/// Adds `--set key.path=value` (repeatable, one value each) to `app`.
inline CLI::Option* add_set_option(CLI::App* app, std::vector<std::string>& sets) {
  return app
      ->add_option("--set", sets,
                   "override one config key, e.g. --set train.seed=3 (repeatable; "
                   "'sac config keys' lists the keys)")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE")
      ->default_str("");
}

/// Adds `--plugin PATH` (repeatable, one path each) to `app`: task plugins (sac/plugin.h) whose
/// tasks the subcommand may name.
inline CLI::Option* add_plugin_option(CLI::App* app, std::vector<std::string>& plugins) {
  return app
      ->add_option("--plugin", plugins,
                   "a task plugin to load, a shared library (repeatable; sac/plugin.h)")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false)
      ->type_name("LIBRARY")
      ->default_str("");
}

/// An option that sets one config key (`--batch` sets sac.batch_size); its value goes through
/// apply_override, so a bad one is refused with the key's name and range.
struct KeyOption {
  const char* flag;
  const char* key;
  const char* meaning;
  bool required = false;
};

/// The options `specs` added to `app`, with the defaults of Config shown in the help.
class KeyOptions {
 public:
  KeyOptions(CLI::App* app, std::vector<KeyOption> specs)
      : m_app(app), m_specs(std::move(specs)), m_values(m_specs.size()) {
    for (size_t i = 0; i < m_specs.size(); ++i) {
      const KeyOption& k = m_specs[i];
      CLI::Option* opt =
          app->add_option(k.flag, m_values[i], std::string(k.meaning) + " (" + k.key + ")");
      opt->type_name(is_list(k) ? "W,W,..." : type_of(k.key));
      if (k.required)
        opt->required();
      else
        opt->default_str(default_text(k.key));
    }
  }

  /// Applies the options given on the command line to `c`, in the order of `specs`.
  void apply(Config& c) const {
    for (size_t i = 0; i < m_specs.size(); ++i) {
      if (m_app->count(m_specs[i].flag) == 0) continue;
      const std::string& v = m_values[i];
      apply_override(c,
                     std::string(m_specs[i].key) + "=" + (is_list(m_specs[i]) ? "[" + v + "]" : v));
    }
  }

  /// True when option `flag` was given.
  bool given(const char* flag) const { return m_app->count(flag) > 0; }

 private:
  static bool is_list(const KeyOption& k) { return std::string(k.key) == "sac.hidden"; }

  // the key's type in the help's words: INT, FLOAT, TEXT
  static std::string type_of(const std::string& key) {
    for (const ConfigKey& c : config_keys())
      if (c.key == key) return c.type == "integer" ? "INT" : c.type == "number" ? "FLOAT" : "TEXT";
    return "VALUE";
  }

  // a key's default in Config as option text ("256,256" for sac.hidden)
  static std::string default_text(const std::string& key) {
    std::string pointer = "/" + key;
    for (char& ch : pointer)
      if (ch == '.') ch = '/';
    nlohmann::json v = Config().to_json().at(nlohmann::json::json_pointer(pointer));
    if (v.is_string()) return v.get<std::string>();
    std::string text = v.dump();
    return v.is_array() ? text.substr(1, text.size() - 2) : text;
  }

  CLI::App* m_app;
  std::vector<KeyOption> m_specs;
  std::vector<std::string> m_values;
};

}  // namespace sac

// config_command.cpp: `sac config show [CONFIG] [--set key.path=value ...]` prints the fully
// resolved config a run would use (the config file over the defaults, then the overrides,
// validated) as one JSON line, env.kwargs with every keyword argument of the task (given or
// default); `sac config keys` prints every key, one JSON line each
// ({"key","type","default","range","doc"}), then every task's keyword arguments as
// env.kwargs.NAME (with "task"), or with --markdown the table README.md holds, or with
// --tasks-markdown the tables of each task's keyword arguments docs/tasks.md holds, all from the
// tables that define them (engine/formats/config.cpp: config_keys(); sac/task.h: task_kwargs()).
// Tests: sac_tests --gtest_filter='CliConfig*'
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/task.h"

namespace sac {
namespace {

struct ConfigShowOptions {
  std::string path;
  std::vector<std::string> sets;
};

int config_show(const ConfigShowOptions& o) {
  Config c = load_config(o.path, o.sets);
  nlohmann::json shown = c.to_json();
  shown["env"]["kwargs"] = resolved_env_kwargs(c);
  std::printf("%s\n", shown.dump().c_str());
  return 0;
}

// a table cell: '|' escaped
std::string cell(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

// one table per task: its keyword arguments with type, default and meaning
int task_keywords_print() {
  for (const std::string& id : env_ids()) {
    std::printf("### %s\n\n| keyword | type | default | meaning |\n|---|---|---|---|\n", id.c_str());
    for (const TaskKwarg& k : task_kwargs(id))
      std::printf("| `%s` | %s | `%s` | %s |\n", k.name.c_str(),
                  cell(kwarg_type_name(k.type)).c_str(), cell(k.default_value.dump()).c_str(),
                  cell(k.doc).c_str());
    std::printf("\n");
  }
  return 0;
}

int config_keys_print(bool markdown) {
  if (markdown) {
    std::printf("| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for (const ConfigKey& k : config_keys())
      std::printf("| `%s` | %s | `%s` | %s | %s |\n", k.key.c_str(), cell(k.type).c_str(),
                  cell(k.default_json).c_str(), cell(k.range).c_str(), cell(k.doc).c_str());
    return 0;
  }
  for (const ConfigKey& k : config_keys()) {
    nlohmann::ordered_json line = {{"key", k.key},
                           {"type", k.type},
                           {"default", nlohmann::ordered_json::parse(k.default_json)},
                           {"range", k.range},
                           {"doc", k.doc}};
    std::printf("%s\n", line.dump().c_str());
  }
  // each task's keyword arguments, as env.kwargs.NAME
  for (const std::string& id : env_ids())
    for (const TaskKwarg& k : task_kwargs(id)) {
      nlohmann::ordered_json line = {{"key", "env.kwargs." + k.name},
                                     {"task", id},
                                     {"type", kwarg_type_name(k.type)},
                                     {"default", k.default_value},
                                     {"doc", k.doc}};
      std::printf("%s\n", line.dump().c_str());
    }
  return 0;
}

}  // namespace

void add_config_command(CLI::App& parent, CommandRunner& run) {
  CLI::App* config =
      parent.add_subcommand("config", "the config keys and resolved configs: show, keys");
  config->allow_extras();

  auto show = std::make_shared<ConfigShowOptions>();
  CLI::App* s = add_command(*config, "show",
                            "print the fully resolved config a run would use, as one JSON line",
                            run, [show] { return config_show(*show); });
  s->add_option("CONFIG", show->path, "a config file (JSON); none: the defaults");
  add_set_option(s, show->sets);

  auto markdown = std::make_shared<bool>(false), tasks = std::make_shared<bool>(false);
  CLI::App* k = add_command(*config, "keys",
                            "print every config key with its type, default, allowed values and "
                            "meaning, one JSON line each",
                            run, [markdown, tasks] {
                              return *tasks ? task_keywords_print() : config_keys_print(*markdown);
                            });
  k->add_flag("--markdown", *markdown, "print README.md's table of keys instead");
  k->add_flag("--tasks-markdown", *tasks,
              "print docs/tasks.md's tables of each task's keyword arguments instead");
}

}  // namespace sac

// plan.cpp: the sweep file, its expansion into runs and the plan on disk (sweep/plan.h).
#include "sweep/plan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "formats/path_checks.h"
#include "formats/quoted.h"
#include "formats/whole_file.h"
#include "formats/checkpoint.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

using nlohmann::json;

std::string read_text(const std::string& path, const std::string& what) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) throw ConfigError("cannot read " + what + " '" + path + "'");
  return *text;
}

// a config key's value as `--set` text: JSON, which apply_override parses back
void apply_value(Config& c, const std::string& key, const json& value) {
  apply_override(c, key + "=" + value.dump());
}

// checks that `key` names a config key the sweep may set (the seeds come from "seeds")
void check_key(const std::string& where, const std::string& key) {
  if (key == "train.seed" || key == "train.seeds")
    throw ConfigError(where + ": " + quoted_text(key) +
                      " cannot be set here; the sweep's \"seeds\" and "
                      "\"seeds_per_run\" decide each run's seeds");
  for (const ConfigKey& k : config_keys())
    if (k.key == key) return;
  throw ConfigError(where + ": unknown config key " + quoted_text(key) +
                    " ('sac config keys' lists them)");
}

// "0.01", "Hopper-v5", "64x64" for [64,64]: a value as a folder name may hold it
std::string value_text(const json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  if (v.is_array()) {
    text.clear();
    for (const json& e : v) text += (text.empty() ? "" : "x") + value_text(e);
  }
  std::string out;
  for (char ch : text)
    out += (std::isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '+') ? ch : '_';
  return out;
}

// key -> leaf value of a config's JSON, dotted
void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object())
      flatten(*it, key, out);
    else
      out[key] = *it;
  }
}

// the config file in `configs_dir` whose env.id is `task`
std::string task_config_path(const std::string& configs_dir, const std::string& task,
                             const std::string& where) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(configs_dir, ec))
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  if (ec)
    throw ConfigError(where + ": no \"base\" config, and the task configs folder '" + configs_dir +
                      "' cannot be read (--configs names it)");
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    json j = json::parse(read_text(f, "config file"), nullptr, false);
    if (j.is_object() && j.contains("env") && j["env"].is_object() && j["env"].contains("id") &&
        j["env"]["id"] == task)
      return f;
  }
  throw ConfigError(where + ": no \"base\" config, and no config file in '" + configs_dir +
                    "' has env.id = " + quoted_text(task));
}

std::string seeds_text(const std::vector<uint64_t>& seeds) {
  std::string s;
  for (uint64_t x : seeds) s += (s.empty() ? "" : "+") + std::to_string(x);
  return s;
}

}  // namespace

SweepFile read_sweep_file(const std::string& path) {
  return parse_sweep_file(read_text(path, "sweep file"), path);
}

SweepFile parse_sweep_file(const std::string& text, const std::string& path) {
  SweepFile s;
  s.path = path;
  const std::string where = "sweep file '" + path + "'";
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ConfigError(where + " is not a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "base" && it.key() != "grid" && it.key() != "seeds" &&
        it.key() != "seeds_per_run" && it.key() != "set")
      throw ConfigError(where + ": unknown key " + quoted_text(it.key()) +
                        " (a sweep file holds base, grid, seeds, seeds_per_run, set)");

  if (j.contains("base")) {
    if (!j["base"].is_string() || j["base"].get<std::string>().empty())
      throw ConfigError(where + ": \"base\" must be the path of a config file");
    s.base = j["base"].get<std::string>();
  }

  // grid: config key -> a non-empty list of distinct values
  if (!j.contains("grid") || !j["grid"].is_object() || j["grid"].empty())
    throw ConfigError(where + ": \"grid\" is empty or missing (config key -> list of values; "
                      "the runs are their product)");
  for (auto it = j["grid"].begin(); it != j["grid"].end(); ++it) {
    const std::string key = it.key();
    check_key(where + ", grid", key);
    if (!it->is_array() || it->empty())
      throw ConfigError(where + ": grid key " + quoted_text(key) +
                        " needs a non-empty list of values");
    std::vector<json> values(it->begin(), it->end());
    // a task id names a config file and a folder: a string (each value's config check follows)
    if (key == "env.id")
      for (const json& v : values)
        if (!v.is_string())
          throw ConfigError(where + ": grid key 'env.id' lists " + json_text(v) +
                            ", not a task id (a string)");
    for (size_t a = 0; a < values.size(); ++a)
      for (size_t b = 0; b < a; ++b)
        if (values[a] == values[b])
          throw ConfigError(where + ": grid key " + quoted_text(key) + " lists " +
                            json_text(values[a]) + " twice");
    s.grid.emplace_back(key, values);
  }

  // seeds: distinct, in the range train.seed takes
  if (!j.contains("seeds") || !j["seeds"].is_array() || j["seeds"].empty())
    throw ConfigError(where + ": \"seeds\" must be a non-empty list of seeds");
  std::set<uint64_t> seen;
  for (const json& v : j["seeds"]) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 9000000000000000ull)
      throw ConfigError(where + ": \"seeds\" holds " + json_text(v) +
                        ", not a seed (an integer in [0, 9e15])");
    if (!seen.insert(v.get<uint64_t>()).second)
      throw ConfigError(where + ": \"seeds\" lists seed " + json_text(v) + " twice");
    s.seeds.push_back(v.get<uint64_t>());
  }
  if (j.contains("seeds_per_run")) {
    const json& v = j["seeds_per_run"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxSeeds)
      throw ConfigError(where + ": \"seeds_per_run\" must be an integer in [1, " +
                        std::to_string(kMaxSeeds) + "], got " + json_text(v));
    s.seeds_per_run = (int)v.get<int64_t>();
  }

  if (j.contains("set")) {
    if (!j["set"].is_object()) throw ConfigError(where + ": \"set\" must be an object (key -> value)");
    for (auto it = j["set"].begin(); it != j["set"].end(); ++it) {
      check_key(where + ", set", it.key());
      for (const auto& g : s.grid)
        if (g.first == it.key())
          throw ConfigError(where + ": " + quoted_text(it.key()) +
                            " is both in \"grid\" and in \"set\"");
      s.set.emplace_back(it.key(), *it);
    }
  }
  // the runs: the grid's product times the seed groups, refused above kMaxSweepRuns before any
  // is made (the product saturates: it cannot overflow)
  const size_t groups = (s.seeds.size() + s.seeds_per_run - 1) / s.seeds_per_run;
  size_t runs = groups;
  std::string product;
  for (const auto& g : s.grid) {
    runs = runs > kMaxSweepRuns ? runs : runs * g.second.size();
    product += std::to_string(g.second.size()) + " x ";
  }
  if (runs > kMaxSweepRuns)
    throw ConfigError(where + ": more than " + std::to_string(kMaxSweepRuns) + " runs (" +
                      product + std::to_string(groups) +
                      " seed groups); split it into several sweeps");
  if (s.base.empty() &&
      std::none_of(s.grid.begin(), s.grid.end(), [](const auto& g) { return g.first == "env.id"; }))
    throw ConfigError(where + ": \"base\" is required unless env.id is in the grid");
  return s;
}

std::vector<PlannedRun> expand_sweep(const SweepFile& sweep, const std::string& configs_dir) {
  const std::string where = "sweep file '" + sweep.path + "'";
  std::vector<PlannedRun> runs;
  // each base config file read once (a task's file serves all of its runs)
  std::map<std::string, Config> bases;
  // the grid points, the last key varying fastest
  std::vector<size_t> at(sweep.grid.size(), 0);
  for (;;) {
    json settings = json::object();
    for (size_t k = 0; k < sweep.grid.size(); ++k)
      settings[sweep.grid[k].first] = sweep.grid[k].second[at[k]];
    for (size_t first = 0; first < sweep.seeds.size(); first += sweep.seeds_per_run) {
      PlannedRun r;
      r.task = (int)runs.size();
      r.settings = settings;
      r.seeds.assign(sweep.seeds.begin() + first,
                     sweep.seeds.begin() + std::min(sweep.seeds.size(), first + sweep.seeds_per_run));
      // the id: index, task, the other settings, the seeds
      char index[16];
      std::snprintf(index, sizeof index, "%03d", r.task);
      r.id = index;
      if (settings.contains("env.id")) r.id += "_" + value_text(settings["env.id"]);
      for (const auto& g : sweep.grid) {
        if (g.first == "env.id") continue;
        r.id += "_" + g.first.substr(g.first.rfind('.') + 1) + "=" + value_text(settings[g.first]);
      }
      r.id += "_s" + seeds_text(r.seeds);

      // base (or the task's own file), set, the grid point, the seeds
      const std::string run_where = where + ", run " + r.id;
      try {
        std::string base = sweep.base;
        if (base.empty())
          base = task_config_path(configs_dir, settings["env.id"].get<std::string>(), where);
        auto known = bases.find(base);
        if (known == bases.end()) known = bases.emplace(base, load_config(base, {})).first;
        r.config = known->second;
        for (const auto& [key, value] : sweep.set) apply_value(r.config, key, value);
        for (auto it = settings.begin(); it != settings.end(); ++it)
          apply_value(r.config, it.key(), *it);
        if (r.seeds.size() == 1) {
          r.config.seed = r.seeds[0];
          r.config.seeds.clear();
        } else {
          r.config.seed = r.seeds[0];
          r.config.seeds = r.seeds;
        }
        validate(r.config);
      } catch (const ConfigError& e) {
        throw ConfigError(run_where + ": " + e.what());
      }
      runs.push_back(std::move(r));
    }
    // next grid point
    size_t k = sweep.grid.size();
    while (k > 0 && ++at[k - 1] == sweep.grid[k - 1].second.size()) at[--k] = 0;
    if (k == 0) break;
  }
  return runs;
}

std::string planned_run_dir(const std::string& dir, const PlannedRun& run) {
  return dir + "/runs/" + run.id;
}

std::string setting_label(const PlannedRun& run) {
  std::string label;
  for (auto it = run.settings.begin(); it != run.settings.end(); ++it) {
    if (it.key() == "env.id") continue;
    label += (label.empty() ? "" : " ") + it.key() + "=" + it->dump();
  }
  return label;
}

namespace {

// a plan line's seeds: a non-empty array of unsigned integers (get<> of anything else throws a
// type error or converts a float beyond uint64)
bool seed_list(const json& seeds) {
  if (!seeds.is_array() || seeds.empty()) return false;
  for (const json& s : seeds)
    if (!s.is_number_unsigned() && !(s.is_number_integer() && s.get<int64_t>() >= 0)) return false;
  return true;
}

}  // namespace

std::vector<PlannedRun> read_plan(const std::string& dir) {
  const std::string path = dir + "/plan.jsonl";
  std::ifstream in(path);
  if (!in) throw InputError("'" + dir + "' holds no sweep plan (no readable plan.jsonl; make one "
                            "with 'sac sweep plan SWEEP.json --out " + dir + "')");
  std::vector<PlannedRun> runs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string() ||
        !j.contains("seeds") || !seed_list(j["seeds"]) || !j.contains("settings") ||
        !j.contains("task") || !j["task"].is_number_integer() || j["task"] != (int)runs.size())
      throw InputError("'" + path + "' line " + std::to_string(n) + " is not a run of a plan");
    PlannedRun r;
    r.task = j["task"].get<int>();
    r.id = j["id"].get<std::string>();
    r.settings = j["settings"];
    r.seeds = j["seeds"].get<std::vector<uint64_t>>();
    r.config = load_config(dir + "/configs/" + r.id + ".json", {});
    runs.push_back(std::move(r));
  }
  if (runs.empty()) throw InputError("'" + path + "' holds no runs");
  return runs;
}

PlanWrite write_plan(const std::string& dir, const SweepFile& sweep,
                     const std::vector<PlannedRun>& runs) {
  // an existing folder: empty, or the same plan (resumable settings may differ)
  PlanWrite result = PlanWrite::created;
  if (std::filesystem::exists(dir)) {
    if (!is_directory(dir)) throw ConfigError("--out '" + dir + "' exists and is not a directory");
    const bool has_plan = std::filesystem::exists(dir + "/plan.jsonl");
    if (!has_plan && !std::filesystem::is_empty(dir))
      throw ConfigError("--out '" + dir + "' exists, is not empty and holds no sweep plan; "
                        "give a new or empty directory");
    if (has_plan) {
      std::vector<PlannedRun> old = read_plan(dir);
      for (size_t i = 0; i < std::max(old.size(), runs.size()); ++i)
        if (i >= old.size() || i >= runs.size() || old[i].id != runs[i].id)
          throw ConfigError("'" + dir + "' holds another plan: run " + std::to_string(i) + " is '" +
                            (i < old.size() ? old[i].id : std::string("(none)")) + "' there, '" +
                            (i < runs.size() ? runs[i].id : std::string("(none)")) +
                            "' here; give a new --out");
      const auto& allowed = resumable_keys();
      result = PlanWrite::unchanged;
      for (size_t i = 0; i < runs.size(); ++i) {
        std::map<std::string, json> a, b;
        flatten(old[i].config.to_json(), "", a);
        flatten(runs[i].config.to_json(), "", b);
        for (const auto& [key, value] : b) {
          if (a.count(key) && a[key] == value) continue;
          if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            throw ConfigError("'" + dir + "' holds another plan: run " + runs[i].id + " has " +
                              key + " = " + (a.count(key) ? a[key].dump() : "(none)") +
                              " there, " + value.dump() + " here, and " + key +
                              " cannot change for a run that may have started (--resume "
                              "keeps it); give a new --out");
          result = PlanWrite::updated;
        }
      }
      if (result == PlanWrite::unchanged) return result;
    }
  }

  // the files: configs first, plan.jsonl last, each atomically
  std::filesystem::create_directories(dir + "/configs");
  write_file_atomic(dir + "/sweep.json", read_text(sweep.path, "sweep file"));
  std::string plan;
  for (const PlannedRun& r : runs) {
    write_file_atomic(dir + "/configs/" + r.id + ".json", r.config.to_json().dump(2) + "\n");
    json line = {{"task", r.task}, {"id", r.id}, {"config", "configs/" + r.id + ".json"},
                 {"seeds", r.seeds}, {"settings", r.settings}};
    plan += line.dump() + "\n";
  }
  write_file_atomic(dir + "/plan.jsonl", plan);
  return result;
}

}  // namespace sac

// test_cli.cpp: the `sac` command line as a user meets it (engine/cli/, CLI11): `sac --help` lists
// every subcommand and each is tested here; `sac SUB --help` answers on stdout with exit 0 and
// lists every option with a default (or says it is required, or what its absence means) and a
// meaning; `sac --version` names the version, commit, backends, MuJoCo and BLAS; bad input is one
// `sac: error: ...` line naming the option, exit 2, nothing on stdout; `sac config show|keys`;
// `sac bench env` on either step engine (pool, mjbatch).
// Run: sac_tests --gtest_filter='Cli*'
#include <gtest/gtest.h>
#include <mujoco/mujoco.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sac/config.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;

struct Result {
  int code = -1;
  std::string out, err;
};

// runs `sac ARGS` (ARGS as shell words), stdout and stderr apart
Result sac(const std::string& args) {
  test::TempDir tmp("sac_cli");
  std::string err_path = std::string(tmp) + "/err.txt";
  std::string cmd = std::string(SAC_BINARY) + " " + args + " 2>" + err_path;
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = test::read_file(err_path);
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// the names listed under "Subcommands:" in a help text
std::set<std::string> subcommands_of(const std::string& help) {
  std::set<std::string> names;
  bool in = false;
  for (const std::string& l : lines(help)) {
    if (l == "Subcommands:") {
      in = true;
      continue;
    }
    if (in && l.empty()) break;
    if (in && l.size() > 2 && l[0] == ' ' && l[2] != ' ')
      names.insert(l.substr(2, l.find(' ', 2) - 2));
  }
  return names;
}

// an option's line of a help text: its names, the type with the default ("INT=1000"), whether
// it is required, and its meaning (which CLI11 puts on the next line when the names are long)
struct HelpOption {
  std::string names, type, meaning;
  bool required = false;
};

std::map<std::string, HelpOption> options_of(const std::string& help) {
  std::map<std::string, HelpOption> out;
  std::vector<std::string> ls = lines(help);
  bool in = false;
  // names, one space, the type with its default (it may hold single spaces), then two or more
  // spaces and the meaning
  static const std::regex line_re(
      R"(^  (-[A-Za-z],)?(--[a-z-]+)(?: (\S(?:.*?\S)?))?(?:\s{2,}(.*))?$)");
  for (size_t i = 0; i < ls.size(); ++i) {
    const std::string& l = ls[i];
    if (l == "Options:") {
      in = true;
      continue;
    }
    if (in && l.empty()) break;
    std::smatch m;
    if (!in || !std::regex_match(l, m, line_re)) continue;
    HelpOption o;
    o.names = m[1].str() + m[2].str();
    o.type = m[3].str();
    const std::string req = " REQUIRED";
    if (o.type == "REQUIRED" ||
        (o.type.size() > req.size() &&
         o.type.compare(o.type.size() - req.size(), req.size(), req) == 0)) {
      o.required = true;
      o.type = o.type == "REQUIRED" ? "" : o.type.substr(0, o.type.size() - req.size());
    }
    o.meaning = m[4].str();
    if (o.meaning.empty() && i + 1 < ls.size()) o.meaning = ls[i + 1];
    out[m[2].str()] = o;
  }
  return out;
}

// every subcommand with the options its help must list
const std::map<std::string, std::vector<std::string>>& expected_commands() {
  static const std::map<std::string, std::vector<std::string>> commands = {
      {"train", {"--set", "--plugin", "--run-dir", "--resume", "--quiet"}},
      {"eval", {"--episodes", "--device", "--seed"}},
      {"envs", {"--plugin"}},
      {"config show", {"--set"}},
      {"config keys", {"--markdown", "--tasks-markdown"}},
      {"rollout", {"--env", "--plugin", "--policy", "--steps", "--seed", "--record", "--video", "--episodes",
                   "--width", "--height", "--camera"}},
      {"plot", {"--output", "--title"}},
      {"sweep plan", {"--out", "--configs"}},
      {"sweep run", {"--task", "--quiet"}},
      {"sweep local", {"--jobs", "--gpus"}},
      {"sweep slurm",
       {"--partition", "--gpus-per-task", "--max-parallel", "--time", "--signal-seconds",
        "--sbatch", "--submit"}},
      {"sweep status", {}},
      {"sweep collect", {}},
      {"bench update",
       {"--env", "--batch", "--device", "--threads", "--hidden", "--seed", "--precision", "--seeds",
        "--seconds"}},
      {"bench env",
       {"--env", "--num-envs", "--threads", "--steps", "--warmup", "--seed", "--rounds",
        "--engine"}},
      {"bench train",
       {"--env", "--steps", "--device", "--num-envs", "--threads", "--env-threads",
        "--updates-per-step", "--pipeline", "--batch", "--hidden", "--seed", "--seeds", "--set"}},
  };
  return commands;
}

TEST(CliHelp, TopLevelHelpListsEverySubcommandAndEachIsTested) {
  Result r = sac("--help");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Usage: sac"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--version"), std::string::npos) << r.out;
  std::set<std::string> listed;
  for (const std::string& top : subcommands_of(r.out)) {
    Result sub = sac(top + " --help");
    std::set<std::string> nested = subcommands_of(sub.out);
    if (nested.empty()) listed.insert(top);
    for (const std::string& n : nested) listed.insert(top + " " + n);
  }
  std::set<std::string> tested;
  for (const auto& [name, options] : expected_commands()) tested.insert(name);
  // a new subcommand fails here until its options are listed in expected_commands()
  EXPECT_EQ(listed, tested);
  // `sac help` is `sac --help`
  Result help = sac("help");
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out, r.out);
}

TEST(CliHelp, EverySubcommandListsEveryOptionWithDefaultAndMeaning) {
  for (const auto& [name, expected] : expected_commands()) {
    SCOPED_TRACE("sac " + name + " --help");
    Result r = sac(name + " --help");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("Usage: sac " + name + " "), std::string::npos) << r.out;
    std::map<std::string, HelpOption> options = options_of(r.out);
    for (const std::string& o : expected)
      EXPECT_TRUE(options.count(o)) << o << " missing in\n" << r.out;
    for (const auto& [flag, o] : options) {
      if (flag == "--help") continue;
      SCOPED_TRACE(flag);
      // a meaning of a few words
      EXPECT_GE(o.meaning.size(), 8u) << r.out;
      // an option taking a value shows its default, or is required, or says what its absence means
      bool takes_value = !o.type.empty();
      bool has_default = o.type.find('=') != std::string::npos;
      bool absence_explained = o.meaning.find("default") != std::string::npos ||
                               o.meaning.find("required") != std::string::npos ||
                               o.meaning.find("repeatable") != std::string::npos;
      if (takes_value)
        EXPECT_TRUE(has_default || o.required || absence_explained) << o.type << " " << o.meaning;
    }
  }
  // the defaults shown are the ones used: a few spot checks against Config and the code
  std::map<std::string, HelpOption> bench = options_of(sac("bench train --help").out);
  EXPECT_EQ(bench["--batch"].type, "INT=" + std::to_string(Config().batch_size));
  EXPECT_EQ(bench["--seeds"].type, "INT:[1, 32]=1");
  EXPECT_EQ(bench["--hidden"].type, "W,W,...=256,256");
  EXPECT_TRUE(bench["--env"].required);
  std::map<std::string, HelpOption> rollout = options_of(sac("rollout --help").out);
  EXPECT_EQ(rollout["--steps"].type, "INT:[1, 1099511627776]=1000");
  EXPECT_EQ(rollout["--policy"].type, "TEXT=random");
  EXPECT_FALSE(rollout["--record"].required);  // --record, --video or both
  EXPECT_EQ(rollout["--width"].type, "INT:[16, 4096]=640");
}

TEST(CliVersion, NamesVersionCommitBackendsMujocoAndBlas) {
  Result r = sac("--version");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> ls = lines(r.out);
  ASSERT_EQ(ls.size(), 5u) << r.out;
  EXPECT_TRUE(std::regex_match(ls[0], std::regex(R"(sac \d+\.\d+\.\d+)"))) << ls[0];
  EXPECT_TRUE(std::regex_match(ls[1], std::regex(R"(commit: ([0-9a-f]{12}(-dirty)?|unknown))")))
      << ls[1];
  EXPECT_EQ(ls[2].rfind("backends: cpu", 0), 0u) << ls[2];
#ifdef SAC_HAVE_CUDA
  EXPECT_NE(ls[2].find("cuda (runtime "), std::string::npos) << ls[2];
#else
  EXPECT_NE(ls[2].find("no CUDA backend"), std::string::npos) << ls[2];
#endif
  EXPECT_EQ(ls[3], std::string("mujoco: ") + mj_versionString());
  EXPECT_EQ(ls[4].rfind("blas: lib", 0), 0u) << ls[4];
}

TEST(CliErrors, BadInputIsOneLineNamingTheOptionExitTwo) {
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"frobnicate", "unknown command 'frobnicate' for 'sac'"},
      {"train --bogus", "unknown option '--bogus' for 'sac train'"},
      {"train --set", "option --set needs a value"},
      {"train a.json b.json", "unexpected argument 'b.json' for 'sac train'"},
      {"eval", "sac eval needs a policy file"},
      {"eval p.safetensors --episodes 0", "--episodes must be an integer in [1, 100000], got '0'"},
      {"eval p.safetensors --device tpu", "--device must be auto, cpu or cuda"},
      {"rollout --record x.jsonl", "'sac rollout' needs --env"},
      {"rollout --env Hopper-v5 --record x.jsonl --steps 12x", "--steps must be an integer"},
      {"rollout --env Hopper-v5 --record x.jsonl --seed -1", "--seed must be an integer"},
      {"bench nope", "unknown command 'nope' for 'sac bench'"},
      {"bench update --seconds 0", "--seconds must be in (0, 3600)"},
      {"bench update --seeds 99", "--seeds must be an integer in [1, 32]"},
      {"bench update --batch x", "sac.batch_size"},
      {"bench env --steps 10", "'sac bench env' needs --env"},
      {"bench env --env Hopper-v5 --engine warp", "unknown step engine \"warp\" (known: pool"},
      {"bench env --env Walker2d-v5 --engine mjbatch", "Walker2d-v5 does not split its step"},
      {"bench train --env Pendulum-v1", "'sac bench train' needs --steps"},
      {"config show --set sac.nokey=1", "unknown config key 'sac.nokey'"},
      {"config show /nonexistent/c.json", "/nonexistent/c.json"},
      {"config keys --bogus", "unknown option '--bogus' for 'sac config keys'"},
      {"plot --title", "option --title needs a value"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("sac " + c.args);
    Result r = sac(c.args);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("sac: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
  // no subcommand: the help, on stderr, exit 2
  Result none = sac("");
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("Subcommands:"), std::string::npos) << none.err;
}

TEST(CliConfig, ShowPrintsTheResolvedConfigARunWouldUse) {
  Result r = sac("config show " SAC_SOURCE_DIR
                 "/configs/hopper.json --set train.seed=7 --set sac.hidden=[64,32]");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  json shown = json::parse(r.out);
  Config c =
      load_config(SAC_SOURCE_DIR "/configs/hopper.json", {"train.seed=7", "sac.hidden=[64,32]"});
  // env.kwargs shown with every keyword argument of the task, given or default
  json expected = c.to_json();
  expected["env"]["kwargs"] = resolved_env_kwargs(c);
  EXPECT_EQ(shown, expected);
  EXPECT_EQ(shown["env"]["kwargs"]["frame_skip"], 4);
  EXPECT_EQ(shown["env"]["id"], "Hopper-v5");
  EXPECT_EQ(shown["train"]["seed"], 7);
  EXPECT_EQ(shown["sac"]["hidden"], json::array({64, 32}));
  // no config file: the defaults
  Result d = sac("config show");
  ASSERT_EQ(d.code, 0) << d.err;
  json defaults = Config().to_json();
  defaults["env"]["kwargs"] = resolved_env_kwargs(Config());
  EXPECT_EQ(json::parse(d.out), defaults);
}

TEST(CliConfig, KeysListsEveryKeyOfTheTableWithTypeDefaultRangeAndMeaning) {
  Result r = sac("config keys");
  ASSERT_EQ(r.code, 0) << r.err;
  // the config's own keys, then each task's keyword arguments (lines with "task")
  std::vector<std::string> ls;
  for (const std::string& l : lines(r.out))
    if (!json::parse(l).contains("task")) ls.push_back(l);
  std::vector<ConfigKey> keys = config_keys();
  ASSERT_EQ(ls.size(), keys.size());
  json defaults = Config().to_json();
  for (size_t i = 0; i < keys.size(); ++i) {
    json j = json::parse(ls[i]);
    SCOPED_TRACE(keys[i].key);
    EXPECT_EQ(j["key"], keys[i].key);
    EXPECT_FALSE(j["type"].get<std::string>().empty());
    EXPECT_FALSE(j["range"].get<std::string>().empty());
    EXPECT_GE(j["doc"].get<std::string>().size(), 6u);
    // the default is the one Config holds, and setting it through --set is accepted
    std::string pointer = "/" + keys[i].key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    // (keys a config leaves out at their default: train.seeds, train.video_every,
    // mujoco_version (empty until a run records it), log.tensorboard, which is in the
    // resolved JSON only when off, and algo with the keys of other algos than SAC, tqc.*)
    if (keys[i].key == "algo")
      EXPECT_EQ(j["default"], Config().algo);
    else if (keys[i].key.rfind("tqc.", 0) == 0)
      EXPECT_FALSE(defaults.contains("tqc"));
    else if (keys[i].key == "log.tensorboard")
      EXPECT_EQ(j["default"], Config().log_tensorboard);
    else if (keys[i].key == "mujoco_version")
      EXPECT_EQ(j["default"], Config().mujoco_version);
    else if (keys[i].key == "env.kwargs")  // in the resolved JSON only when some are given
      EXPECT_EQ(j["default"], json::object());
    else if (keys[i].key == "env.plugins")  // in the resolved JSON only when some are named
      EXPECT_EQ(j["default"], json::array());
    else if (keys[i].key != "train.seeds" && keys[i].key != "train.video_every")
      EXPECT_EQ(j["default"], defaults.at(json::json_pointer(pointer)));
    Config c;
    EXPECT_NO_THROW(apply_override(c, keys[i].key + "=" + j["default"].dump()));
  }
  // every key a config file can hold is listed: the keys of the resolved JSON, all set
  Config many;
  many.seeds = {1, 2};
  many.log_tensorboard = false;
  many.video_every = 1000;
  many.mujoco_version = "4.0.1";
  many.env_plugins = {"/plugins/libtasks.so"};
  std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                  const std::string& prefix) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (it.value().is_object())
        walk(it.value(), key);
      else
        EXPECT_TRUE(std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) {
          return k.key == key;
        })) << key;
    }
  };
  walk(many.to_json(), "");
}

// docs/tasks.md's tables of each task's keyword arguments are `sac config keys --tasks-markdown`,
// byte for byte
TEST(CliConfig, DocsTaskKeywordTablesAreTheGeneratedOnes) {
  Result r = sac("config keys --tasks-markdown");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("### Ant-v5\n"), std::string::npos);
  EXPECT_NE(r.out.find("| `ctrl_cost_weight` | number | `0.5` |"), std::string::npos) << r.out;
  std::string page = test::read_file(SAC_SOURCE_DIR "/docs/tasks.md");
  const std::string begin = "<!-- task keywords: generated by `sac config keys --tasks-markdown` -->\n";
  const std::string end = "<!-- end of task keywords -->";
  size_t a = page.find(begin), b = page.find(end);
  ASSERT_NE(a, std::string::npos) << "docs/tasks.md lacks the marker " << begin;
  ASSERT_NE(b, std::string::npos) << "docs/tasks.md lacks the marker " << end;
  EXPECT_EQ(page.substr(a + begin.size(), b - a - begin.size()), r.out)
      << "docs/tasks.md's tables differ from `sac config keys --tasks-markdown`; regenerate them";
}

// README.md's table of config keys is `sac config keys --markdown`, byte for byte: the keys are
// defined in one place and the README cannot drift from it
TEST(CliConfig, ReadmeKeyTableIsTheGeneratedOne) {
  Result r = sac("config keys --markdown");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string readme = test::read_file(SAC_SOURCE_DIR "/README.md");
  const std::string begin = "<!-- config keys: generated by `sac config keys --markdown` -->\n";
  const std::string end = "<!-- end of config keys -->";
  size_t a = readme.find(begin), b = readme.find(end);
  ASSERT_NE(a, std::string::npos) << "README.md lacks the marker " << begin;
  ASSERT_NE(b, std::string::npos) << "README.md lacks the marker " << end;
  std::string table = readme.substr(a + begin.size(), b - a - begin.size());
  EXPECT_EQ(table, r.out) << "README.md's key table differs from `sac config keys --markdown`; "
                             "paste its output between the markers";
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), (long)config_keys().size() + 2);
}

// ---------------------------------------------------------------------------------------------
// summaries: no number where nothing was measured

// the last line of `text` that parses as a JSON object
json last_json_line(const std::string& text) {
  json found;
  for (const std::string& l : lines(text)) {
    json j = json::parse(l, nullptr, false);
    if (!j.is_discarded() && j.is_object()) found = j;
  }
  return found;
}

TEST(CliSummary, ARunStoppedBeforeItsFirstEvaluationReportsNullNotZero) {
  test::TempDir tmp("sac_cli_summary");
  const std::string dir = tmp;
  // evaluations only at the end of a run too long to reach it: SIGINT stops it before any
  pid_t pid = test::spawn_sac(
      test::cli_train(dir + "/run", 10000000, {"train.eval_every=0", "train.eval_episodes=2"}),
      dir + "/log.txt");
  ASSERT_TRUE(test::wait_for_file(dir + "/run/config.json", 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGINT);
  ASSERT_EQ(test::wait_child(pid, 60), 0) << test::read_file(dir + "/log.txt");
  json printed = last_json_line(test::read_file(dir + "/log.txt"));
  ASSERT_TRUE(printed.is_object()) << test::read_file(dir + "/log.txt");
  EXPECT_EQ(printed["interrupted"], true);
  EXPECT_GT(printed["steps"].get<int64_t>(), 0);
  EXPECT_TRUE(printed["final_eval_return"].is_null()) << printed;
  EXPECT_TRUE(printed["best_eval_return"].is_null()) << printed;
  EXPECT_TRUE(printed["updates_per_second"].is_number()) << printed;
  // once it evaluated, the figures are numbers: resumed to a short end (the final evaluation)
  const int64_t at = printed["steps"].get<int64_t>();
  auto [rc, out] = test::run_sac({"train", "--quiet", "--resume", dir + "/run", "--set",
                                  "train.total_steps=" + std::to_string(at + 200)},
                                 dir + "/log2.txt");
  ASSERT_EQ(rc, 0) << out;
  json done = last_json_line(out);
  EXPECT_TRUE(done["final_eval_return"].is_number()) << done;
  json summary = json::parse(test::read_file(dir + "/run/summary.json"));
  EXPECT_TRUE(summary["final_eval_return"].is_number()) << summary;
  EXPECT_EQ(summary["final_eval_return"], done["final_eval_return"]);
}

TEST(CliSummary, ARunWithoutEvaluationWritesNullInSummaryAndPrintedLine) {
  test::TempDir tmp("sac_cli_noeval");
  const std::string dir = tmp;
  auto [rc, out] = test::run_sac(test::cli_train(dir + "/run", 300, {"train.eval_episodes=0"}),
                                 dir + "/log.txt");
  ASSERT_EQ(rc, 0) << out;
  json printed = last_json_line(out);
  json summary = json::parse(test::read_file(dir + "/run/summary.json"));
  for (const json& j : {printed, summary}) {
    EXPECT_TRUE(j["final_eval_return"].is_null()) << j;
    EXPECT_TRUE(j["best_eval_return"].is_null()) << j;
    EXPECT_TRUE(j["steps"].is_number()) << j;
  }
  // the C++ summary says NaN, which summary_json() writes as null
  TrainSummary s;
  EXPECT_TRUE(std::isnan(s.final_eval_return));
  EXPECT_TRUE(summary_json(Config(), s)["final_eval_return"].is_null());
}

// `sac bench env` on both engines: one JSON line each, naming the engine, with a rate
TEST(CliBench, EnvReportsTheRateOfEitherEngine) {
  for (const char* engine : {"pool", "mjbatch"}) {
    SCOPED_TRACE(engine);
    Result r = sac(std::string("bench env --env Hopper-v5 --num-envs 4 --threads 2 --steps 20 "
                               "--warmup 2 --rounds 2 --engine ") + engine);
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(lines(r.out).size(), 1u) << r.out;
    json j = json::parse(r.out);
    EXPECT_EQ(j["engine"], engine);
    EXPECT_EQ(j["env"], "Hopper-v5");
    EXPECT_EQ(j["num_envs"], 4);
    EXPECT_EQ(j["threads"], 2);
    EXPECT_GT(j["env_steps_per_second"].get<double>(), 0.0);
    EXPECT_GT(j["raw_steps_per_second_per_core"].get<double>(), 0.0);
  }
}

}  // namespace
}  // namespace sac

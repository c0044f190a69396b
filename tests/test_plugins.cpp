// test_plugins.cpp: task plugins (include/sac/plugin.h) with the plugins of tests/plugins/: one
// loaded in this process registers its task, which steps with its keyword arguments; the same
// file by another path is loaded once; each refusal (a missing file, a file that is no library, no
// registration function, another API version, an id already registered by sac or by another
// plugin) names the path and the reason and registers nothing. Through `sac`: a plugin task
// trains with --plugin, its config.json records the plugin, a stopped run resumes to the bytes of
// the run done in one go, a run of two seeds gives each seed its single run's policy, and eval,
// rollout and envs load it again; every refusal exits 2 before
// anything is written, also for a run whose plugin has gone.
// Run: ./sac_tests --gtest_filter='Plugin*'   (about 2 s)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sac/config.h"
#include "sac/env.h"
#include "sac/plugin.h"
#include "sac/task.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;
using test::CliRun;
using test::path_exists;
using test::read_file;
using test::run_sac;
using test::TempDir;
using test::write_file;

const char* const kTask = "PluginPointMass-v0";

// the test plugin built as `variant` (good, clash, no_entry, other_version)
std::string plugin(const std::string& variant) {
  return std::string(SAC_TEST_PLUGIN_DIR) + "/libsac_test_plugin_" + variant + ".so";
}

// load_plugin's message for `path` ("" when it loads)
std::string refusal(const std::string& path) {
  try {
    load_plugin(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// the last line of `text` (a command's JSON line after anything it said on stderr)
std::string last_line(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t begin = text.rfind('\n');
  return begin == std::string::npos ? text : text.substr(begin + 1);
}

// ctest runs each test in a process of its own; run together (--gtest_filter), the tests see
// the plugins loaded by the ones before, so each compares with what was there before it

TEST(PluginLoad, RegistersItsTaskWhichStepsWithItsKeywordArguments) {
  EXPECT_EQ(load_plugin(plugin("good")), std::vector<std::string>{kTask});
  std::vector<std::string> ids = env_ids();
  EXPECT_EQ(std::count(ids.begin(), ids.end(), kTask), 1);
  EXPECT_TRUE(contains(loaded_plugins(), plugin("good")));

  std::unique_ptr<Env> env = make_env(kTask, json{{"ctrl_cost_weight", 0.5}});
  const EnvSpec& spec = env->spec();
  EXPECT_EQ(spec.obs_dim, 4);
  EXPECT_EQ(spec.act_dim, 2);
  EXPECT_EQ(spec.max_episode_steps, 100);
  EXPECT_EQ(spec.reward_terms, (std::vector<std::string>{"reward_dist", "reward_ctrl"}));
  HostRng rng(7, 0);
  double obs[4];
  env->reset(rng, obs);
  // the start position is drawn within the default reset noise
  EXPECT_LE(std::abs(obs[0]), 0.5);
  EXPECT_GT(std::abs(obs[0]) + std::abs(obs[1]), 0.0);
  const double action[2] = {1.0, -1.0};
  const double vx = obs[2], vy = obs[3];
  StepResult r = env->step(action, obs);
  EXPECT_EQ(r.reward_terms[1], -0.5 * 2.0);  // the weight given, |a|^2 = 2
  EXPECT_EQ(r.reward_terms[0], -std::hypot(obs[0], obs[1]));
  EXPECT_EQ(r.reward, r.reward_terms[0] + r.reward_terms[1]);
  EXPECT_GT(obs[2], vx);  // pushed along +x
  EXPECT_LT(obs[3], vy);  // and -y

  // its keyword arguments are checked like a built-in task's
  try {
    make_env(kTask, json{{"ctrl_cost", 1}});
    ADD_FAILURE() << "an unknown keyword argument was taken";
  } catch (const InputError& e) {
    EXPECT_TRUE(has(e.what(), "ctrl_cost_weight")) << e.what();
  }
}

TEST(PluginLoad, TheSameFileByAnotherPathIsLoadedOnce) {
  TempDir dir("plugin_link");
  std::filesystem::create_symlink(plugin("good"), dir / "libalias.so");
  EXPECT_EQ(load_plugin(plugin("good")), std::vector<std::string>{kTask});
  const size_t tasks = env_ids().size();
  EXPECT_EQ(load_plugin(dir / "libalias.so"), std::vector<std::string>{kTask});
  EXPECT_EQ(load_plugin(std::string(SAC_TEST_PLUGIN_DIR) + "/../test_plugins/" +
                        "libsac_test_plugin_good.so"),
            std::vector<std::string>{kTask});
  EXPECT_EQ(env_ids().size(), tasks);
  EXPECT_FALSE(contains(loaded_plugins(), dir / "libalias.so"));
}

TEST(PluginRefusal, AMissingFileNamesThePathAndTheLoadersMessage) {
  const std::string path = plugin("missing");
  const std::vector<std::string> tasks = env_ids(), plugins = loaded_plugins();
  std::string why = refusal(path);
  EXPECT_TRUE(has(why, "plugin '" + path + "': cannot be loaded: ")) << why;
  EXPECT_TRUE(has(why, "No such file")) << why;  // dlerror's text
  EXPECT_EQ(env_ids(), tasks);
  EXPECT_EQ(loaded_plugins(), plugins);
}

TEST(PluginRefusal, AFileThatIsNoLibrary) {
  TempDir dir("plugin_text");
  write_file(dir / "libtext.so", "not a shared library\n");
  std::string why = refusal(dir / "libtext.so");
  EXPECT_TRUE(has(why, "plugin '" + dir / "libtext.so" + "': cannot be loaded: ")) << why;
  EXPECT_TRUE(has(why, "libtext.so: ")) << why;  // dlerror names the file, then the problem
}

TEST(PluginRefusal, ALibraryWithoutTheRegistrationFunction) {
  std::string why = refusal(plugin("no_entry"));
  EXPECT_TRUE(has(why, "plugin '" + plugin("no_entry") +
                           "': exports no registration function sac_plugin_register"))
      << why;
}

TEST(PluginRefusal, ALibraryOfAnotherApiVersionNamesBothVersions) {
  std::string why = refusal(plugin("other_version"));
  EXPECT_TRUE(has(why, "plugin '" + plugin("other_version") +
                           "': was built against task API version 1000, this sac has version " +
                           std::to_string(kTaskApiVersion)))
      << why;
}

TEST(PluginRefusal, AnIdSacHasNamesTheIdAndBothOriginsAndRegistersNothing) {
  const std::vector<std::string> before = env_ids(), plugins = loaded_plugins();
  std::string why = refusal(plugin("clash"));
  EXPECT_TRUE(has(why, "plugin '" + plugin("clash") +
                           "': task 'Hopper-v5' is already registered by sac's built-in tasks"))
      << why;
  // its other task, valid on its own, is not registered either
  EXPECT_EQ(env_ids(), before);
  EXPECT_FALSE(contains(env_ids(), "PluginPointMassToo-v0"));
  EXPECT_EQ(loaded_plugins(), plugins);
}

TEST(PluginRefusal, AnIdOfAnotherPluginNamesBothPlugins) {
  TempDir dir("plugin_copy");
  std::filesystem::copy_file(plugin("good"), dir / "libcopy.so");
  load_plugin(plugin("good"));
  std::string why = refusal(dir / "libcopy.so");
  EXPECT_TRUE(has(why, "plugin '" + dir / "libcopy.so" + "': task '" + kTask +
                           "' is already registered by plugin '" + plugin("good") + "'"))
      << why;
  EXPECT_FALSE(contains(loaded_plugins(), dir / "libcopy.so"));
}

// `sac train` arguments of the small run on the plugin's task into `run_dir`
std::string plugin_run(const std::string& run_dir, int64_t steps, const std::string& plugin_path) {
  std::string args = "train --quiet --run-dir " + run_dir + " --plugin " + plugin_path;
  for (const std::string& o : test::small_overrides(steps)) args += " --set " + o;
  return args + " --set env.id=" + kTask;
}

TEST(PluginCli, APluginTaskTrainsResumesToTheSameBytesAndEvaluates) {
  TempDir dir("plugin_cli");
  CliRun one = run_sac(plugin_run(dir / "one", 600, plugin("good")));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  CliRun first = run_sac(plugin_run(dir / "two", 300, plugin("good")));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // the run records its plugin: the resume finds the task through config.json alone
  json config = json::parse(read_file(dir / "two/config.json"));
  EXPECT_EQ(config["env"]["plugins"], json::array({plugin("good")}));
  CliRun resumed = run_sac("train --quiet --resume " + dir / "two" + " --set train.total_steps=600");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_TRUE(read_file(dir / "one/policy.safetensors") == read_file(dir / "two/policy.safetensors"))
      << "the resumed run's policy differs from the run done in one go";

  // two seeds in one process: each seed's policy is its single run's
  CliRun seeds = run_sac(plugin_run(dir / "seeds", 600, plugin("good")) + " --set train.seeds=[3,4]");
  ASSERT_EQ(seeds.exit_code, 0) << seeds.output;
  EXPECT_TRUE(read_file(dir / "one/policy.safetensors") ==
              read_file(dir / "seeds/seed-3/policy.safetensors"))
      << "seed 3 of the two-seed run differs from its single run";

  CliRun eval = run_sac("eval " + dir / "two/policy.safetensors" + " --episodes 2");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  json e = json::parse(last_line(eval.output));
  EXPECT_EQ(e["task"], kTask);
  EXPECT_LT(e["mean_return"].get<double>(), 0.0);  // a distance is paid every step

  // rollout: the policy's run names the plugin; a random rollout names it with --plugin
  CliRun rollout = run_sac("rollout --env " + std::string(kTask) + " --policy " +
                           dir / "two/policy.safetensors" + " --steps 5 --record " +
                           dir / "policy.jsonl");
  EXPECT_EQ(rollout.exit_code, 0) << rollout.output;
  CliRun random = run_sac("rollout --plugin " + plugin("good") + " --env " + kTask +
                          " --steps 5 --record " + dir / "random.jsonl");
  EXPECT_EQ(random.exit_code, 0) << random.output;
  EXPECT_EQ(run_sac("rollout --env " + std::string(kTask) + " --steps 5 --record " +
                    dir / "unknown.jsonl").exit_code,
            2);
  CliRun envs = run_sac("envs --plugin " + plugin("good"));
  EXPECT_EQ(envs.exit_code, 0) << envs.output;
  json listed = json::parse(last_line(envs.output));  // the plugin's task comes last
  EXPECT_EQ(listed["id"], kTask);
  EXPECT_EQ(listed["obs_dim"], 4);
}

TEST(PluginCli, EachRefusalExitsTwoNamingThePluginAndWritesNothing) {
  TempDir dir("plugin_refusals");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {plugin("missing"), "cannot be loaded"},
      {plugin("no_entry"), "exports no registration function"},
      {plugin("other_version"), "task API version 1000"},
      {plugin("clash"), "task 'Hopper-v5' is already registered by sac's built-in tasks"}};
  for (const auto& [path, reason] : cases) {
    CliRun r = run_sac(plugin_run(dir / "run", 300, path));
    EXPECT_EQ(r.exit_code, 2) << path << ": " << r.output;
    EXPECT_TRUE(has(r.output, "sac: error: plugin '" + path + "': " )) << r.output;
    EXPECT_TRUE(has(r.output, reason)) << r.output;
    EXPECT_FALSE(path_exists(dir / "run")) << path;
  }
  // the same from a config file's env.plugins, and a plugin id twice from two plugins
  write_file(dir / "config.json",
             json{{"env", {{"id", "Pendulum-v1"}, {"plugins", json::array({plugin("no_entry")})}}}}.dump());
  CliRun file = run_sac("train " + dir / "config.json" + " --quiet --run-dir " + dir / "run");
  EXPECT_EQ(file.exit_code, 2) << file.output;
  EXPECT_TRUE(has(file.output, plugin("no_entry"))) << file.output;
  std::filesystem::copy_file(plugin("good"), dir / "libcopy.so");
  CliRun twice = run_sac(plugin_run(dir / "run", 300, plugin("good")) + " --plugin " + dir / "libcopy.so");
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_TRUE(has(twice.output, "already registered by plugin '" + plugin("good") + "'"))
      << twice.output;
  EXPECT_FALSE(path_exists(dir / "run"));
}

TEST(PluginCli, ARunWhosePluginHasGoneIsRefusedByResumeAndEval) {
  TempDir dir("plugin_gone");
  std::filesystem::copy_file(plugin("good"), dir / "libmoved.so");
  CliRun first = run_sac(plugin_run(dir / "run", 200, dir / "libmoved.so"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  std::filesystem::remove(dir / "libmoved.so");
  const std::string before = read_file(dir / "run/summary.json");
  for (const std::string& command :
       {"train --quiet --resume " + dir / "run" + " --set train.total_steps=400",
        "eval " + dir / "run/policy.safetensors"}) {
    CliRun r = run_sac(command);
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
    EXPECT_TRUE(has(r.output, "plugin '" + dir / "libmoved.so" + "': cannot be loaded"))
        << r.output;
  }
  EXPECT_EQ(read_file(dir / "run/summary.json"), before);
}

}  // namespace
}  // namespace sac

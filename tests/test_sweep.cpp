// test_sweep.cpp: `sac sweep` (engine/run/sweep_*.h, engine/cli/sweep_*.cpp) without a cluster:
// bad sweep files and arguments exit 2 naming the problem with nothing written; the plan is
// deterministic, and a DIR holding another plan is refused unless only resumable settings
// changed; a task trains, stops on SIGUSR1 with a checkpoint, resumes to the policy of the run in
// one go, and is a no-op when done; status and collect read files only and list runs in flight;
// the Slurm script holds what the options ask for. tests/slurm/sweep_test.sh runs it on a real
// Slurm. Run: sac_tests --gtest_filter='Sweep*'
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/sweep_plots.h"
#include "sweep/plan.h"
#include "sweep/results.h"
#include "sweep/slurm.h"
#include "sweep/task.h"
#include "sac/config.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;
using test::path_exists;
using test::read_file;
using test::TempDir;
using test::write_file;

// a sweep of tiny Pendulum runs: 2 settings x `seeds`, `steps` each
json tiny_sweep(int64_t steps, json seeds = {1, 2}, int seeds_per_run = 1) {
  return {{"base", std::string(SAC_SOURCE_DIR) + "/configs/pendulum.json"},
          {"grid", {{"sac.tau", {0.005, 0.01}}}},
          {"seeds", seeds},
          {"seeds_per_run", seeds_per_run},
          {"set",
           {{"device", "cpu"}, {"train.total_steps", steps}, {"train.warmup_steps", 300},
            {"train.eval_every", 1000}, {"train.eval_episodes", 2},
            {"train.checkpoint_every", 1000}, {"train.threads", 1}, {"sac.hidden", {32, 32}},
            {"sac.batch_size", 32}}}};
}

std::string write_sweep(const TempDir& tmp, const json& sweep, const std::string& name = "sweep.json") {
  write_file(tmp / name, sweep.dump());
  return tmp / name;
}

// `sac ARGS` with stdout and stderr apart
struct Out {
  int code;
  std::string out, err;
};
Out sac(const std::string& args) {
  TempDir tmp("sac_sweep_cli");
  std::string cmd = std::string(SAC_BINARY) + " " + args + " 2>" + (tmp / "err");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, read_file(tmp / "err")};
}

void expect_refused(const Out& r, const std::string& expect) {
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("sac: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
}

TEST(SweepFile, BadInputIsRefusedNamingTheKeyWithExitTwoAndNothingWritten) {
  TempDir tmp("sac_sweep_bad");
  struct Case {
    std::string name;
    std::function<void(json&)> edit;
    std::string expect;
  } cases[] = {
      {"unknown key", [](json& j) { j["grids"] = json::object(); }, "unknown key 'grids'"},
      {"unknown config key", [](json& j) { j["grid"]["sac.taux"] = {1}; }, "unknown config key 'sac.taux'"},
      {"unknown set key", [](json& j) { j["set"]["train.nope"] = 1; }, "unknown config key 'train.nope'"},
      {"empty grid", [](json& j) { j["grid"] = json::object(); }, "\"grid\" is empty"},
      {"empty values", [](json& j) { j["grid"]["sac.tau"] = json::array(); }, "grid key 'sac.tau' needs a non-empty list"},
      {"duplicate value", [](json& j) { j["grid"]["sac.tau"] = {0.01, 0.01}; }, "grid key 'sac.tau' lists 0.01 twice"},
      {"duplicate seeds", [](json& j) { j["seeds"] = {1, 2, 1}; }, "lists seed 1 twice"},
      {"no seeds", [](json& j) { j["seeds"] = json::array(); }, "\"seeds\" must be a non-empty list"},
      {"bad seeds_per_run", [](json& j) { j["seeds_per_run"] = 0; }, "\"seeds_per_run\" must be an integer in [1, 32]"},
      {"seed in set", [](json& j) { j["set"]["train.seed"] = 3; }, "'train.seed' cannot be set here"},
      {"key in grid and set", [](json& j) { j["set"]["sac.tau"] = 0.1; }, "'sac.tau' is both in \"grid\" and in \"set\""},
      {"bad value", [](json& j) { j["grid"]["sac.tau"] = {0.005, 2.0}; }, "sac.tau"},
      {"bad task", [](json& j) { j["grid"]["env.id"] = {"Nope-v9"}; }, "Nope-v9"},
      {"no base", [](json& j) { j.erase("base"); }, "\"base\" is required unless env.id is in the grid"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    json j = tiny_sweep(1000);
    c.edit(j);
    std::string path = write_sweep(tmp, j);
    expect_refused(sac("sweep plan " + path + " --out " + (tmp / "out")), c.expect);
    EXPECT_FALSE(path_exists(tmp / "out")) << "something was written";
  }
  expect_refused(sac("sweep plan " + (tmp / "none.json") + " --out " + (tmp / "out")),
                 "cannot read sweep file");
  expect_refused(sac("sweep plan --out " + (tmp / "out")), "needs SWEEP");
}

TEST(SweepPlan, IsDeterministicWithSeedGroupsAndPerTaskConfigs) {
  TempDir tmp("sac_sweep_plan");
  json j = tiny_sweep(2000, {1, 2, 3}, 2);
  j.erase("base");
  j["set"].erase("train.warmup_steps");  // each task's own
  j["grid"]["env.id"] = {"Pendulum-v1", "InvertedPendulum-v5"};
  std::string path = write_sweep(tmp, j);
  for (const char* out : {"a", "b"}) {
    Out r = sac("sweep plan " + path + " --out " + (tmp / out) + " --configs " SAC_SOURCE_DIR "/configs");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\"plan\":\"created\""), std::string::npos) << r.out;
  }
  // same file, same plan, byte for byte
  EXPECT_EQ(read_file(tmp / "a/plan.jsonl"), read_file(tmp / "b/plan.jsonl"));
  std::vector<PlannedRun> runs = read_plan(tmp / "a");
  // grid keys in name order (env.id before sac.tau), each key's values in the file's order, the
  // last key varying fastest, then the seed groups
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_EQ(runs[0].id, "000_Pendulum-v1_tau=0.005_s1+2");
  EXPECT_EQ(runs[1].id, "001_Pendulum-v1_tau=0.005_s3");
  EXPECT_EQ(runs[2].id, "002_Pendulum-v1_tau=0.01_s1+2");
  EXPECT_EQ(runs[7].id, "007_InvertedPendulum-v5_tau=0.01_s3");
  // each run's config: the task's own file, then set, the grid point and the seeds
  Config inverted = load_config(SAC_SOURCE_DIR "/configs/inverted_pendulum.json", {});
  EXPECT_EQ(runs[0].config.env_id, "Pendulum-v1");
  EXPECT_EQ(runs[4].config.env_id, "InvertedPendulum-v5");
  EXPECT_EQ(runs[4].config.warmup_steps, inverted.warmup_steps);
  EXPECT_EQ(runs[0].config.warmup_steps,
            load_config(SAC_SOURCE_DIR "/configs/pendulum.json", {}).warmup_steps);
  EXPECT_EQ(runs[0].config.total_steps, 2000);
  EXPECT_EQ(runs[0].config.tau, 0.005);
  EXPECT_EQ(runs[2].config.tau, 0.01);
  EXPECT_EQ(runs[0].config.seeds, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(runs[1].config.seeds.empty());
  EXPECT_EQ(runs[1].config.seed, 3u);
  // the task's config file must exist for a task without a base
  expect_refused(sac("sweep plan " + path + " --out " + (tmp / "c") + " --configs " + (tmp / "none")),
                 "cannot be read");
}

TEST(SweepPlan, ExistingDirIsRefusedUnlessTheSamePlanOrOnlyResumableSettingsChanged) {
  TempDir tmp("sac_sweep_again");
  const std::string out = tmp / "out";
  ASSERT_EQ(sac("sweep plan " + write_sweep(tmp, tiny_sweep(2000)) + " --out " + out).code, 0);
  const std::string plan = read_file(out + "/plan.jsonl");
  const std::string config0 = read_file(out + "/configs/000_tau=0.005_s1.json");
  ASSERT_FALSE(config0.empty());

  Out same = sac("sweep plan " + write_sweep(tmp, tiny_sweep(2000)) + " --out " + out);
  EXPECT_EQ(same.code, 0) << same.err;
  EXPECT_NE(same.out.find("\"plan\":\"unchanged\""), std::string::npos) << same.out;

  // a key --resume cannot change, with runs that may have started: refused, key named
  json gamma = tiny_sweep(2000);
  gamma["set"]["sac.gamma"] = 0.9;
  expect_refused(sac("sweep plan " + write_sweep(tmp, gamma) + " --out " + out),
                 "run 000_tau=0.005_s1 has sac.gamma = 0.99 there, 0.9 here");
  // other runs: refused, ids named
  json more = tiny_sweep(2000);
  more["grid"]["sac.tau"] = {0.005, 0.02};
  expect_refused(sac("sweep plan " + write_sweep(tmp, more) + " --out " + out), "holds another plan");
  EXPECT_EQ(read_file(out + "/plan.jsonl"), plan);
  EXPECT_EQ(read_file(out + "/configs/000_tau=0.005_s1.json"), config0);

  // a longer run is a resumable change: the configs follow
  Out longer = sac("sweep plan " + write_sweep(tmp, tiny_sweep(3000)) + " --out " + out);
  EXPECT_EQ(longer.code, 0) << longer.err;
  EXPECT_NE(longer.out.find("\"plan\":\"updated\""), std::string::npos) << longer.out;
  EXPECT_EQ(read_plan(out)[0].config.total_steps, 3000);

  // a folder holding something else
  std::filesystem::create_directories(tmp / "other");
  write_file(tmp / "other/notes.txt", "mine");
  expect_refused(sac("sweep plan " + write_sweep(tmp, tiny_sweep(2000)) + " --out " + (tmp / "other")),
                 "holds no sweep plan");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp / "other"), {}), 1);
}

TEST(SweepRun, TaskOutOfRangeOrNoPlanExitsTwoWritingNothing) {
  TempDir tmp("sac_sweep_range");
  const std::string out = tmp / "out";
  ASSERT_EQ(sac("sweep plan " + write_sweep(tmp, tiny_sweep(1000)) + " --out " + out).code, 0);
  expect_refused(sac("sweep run " + out + " --task 4"),
                 "--task 4 is out of range: the plan in '" + out + "' has tasks 0 to 3");
  expect_refused(sac("sweep run " + out + " --task -1"), "--task must be an integer");
  expect_refused(sac("sweep run " + out), "needs --task");
  EXPECT_FALSE(path_exists(out + "/runs"));
  EXPECT_FALSE(path_exists(out + "/state"));
  expect_refused(sac("sweep run " + (tmp / "nothing") + " --task 0"), "holds no sweep plan");
  expect_refused(sac("sweep status " + (tmp / "nothing")), "holds no sweep plan");
  expect_refused(sac("sweep collect " + (tmp / "nothing")), "holds no sweep plan");
}

TEST(SweepRun, StopsOnSigusr1ResumesToTheOneGoPolicyAndIsANoOpWhenDone) {
  TempDir tmp("sac_sweep_run");
  const std::string out = tmp / "out";
  json j = tiny_sweep(15000, {1});
  j["set"]["sac.hidden"] = {64, 64};
  j["set"]["sac.batch_size"] = 64;
  ASSERT_EQ(sac("sweep plan " + write_sweep(tmp, j) + " --out " + out).code, 0);
  std::vector<PlannedRun> runs = read_plan(out);
  const std::string run_dir = planned_run_dir(out, runs[0]);

  // SIGUSR1 (Slurm's warning before the time limit): checkpoint, exit 0, state "stopped"
  pid_t pid = test::spawn_sac({"sweep", "run", out, "--task", "0", "--quiet"}, tmp / "log1");
  ASSERT_TRUE(test::wait_for_file(run_dir + "/checkpoints", 60));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ::kill(pid, SIGUSR1);
  ASSERT_EQ(test::wait_child(pid, 120), 0) << read_file(tmp / "log1");
  ASSERT_NE(read_file(tmp / "log1").find("\"state\":\"stopped\""), std::string::npos)
      << "the run finished before the signal (make it longer): " << read_file(tmp / "log1");
  json state = read_sweep_state(out, runs[0]);
  EXPECT_EQ(state["state"], "stopped");
  std::vector<SweepRunStatus> st = sweep_status(out, runs);
  EXPECT_EQ(st[0].state, "pending");
  EXPECT_NE(st[0].detail.find("resumes from its checkpoint"), std::string::npos) << st[0].detail;
  EXPECT_EQ(st[1].state, "pending");

  // run again: resumes from the checkpoint, to the policy of the run in one go
  auto [rc, log2] = test::run_sac({"sweep", "run", out, "--task", "0", "--quiet"}, tmp / "log2", 300);
  ASSERT_EQ(rc, 0) << log2;
  EXPECT_NE(log2.find("\"resumed_from_step\":"), std::string::npos) << log2;
  EXPECT_EQ(read_sweep_state(out, runs[0])["state"], "done");
  auto [rc3, log3] = test::run_sac({"train", out + "/configs/" + runs[0].id + ".json", "--run-dir",
                                    tmp / "plain", "--quiet"},
                                   tmp / "log3", 300);
  ASSERT_EQ(rc3, 0) << log3;
  const std::string policy = read_file(run_dir + "/policy.safetensors");
  ASSERT_FALSE(policy.empty());
  EXPECT_TRUE(policy == read_file(tmp / "plain/policy.safetensors"))
      << "the run stopped by SIGUSR1 and resumed differs from plain sac train";

  // done: a no-op that writes nothing
  const std::string summary = read_file(run_dir + "/summary.json");
  Out again = sac("sweep run " + out + " --task 0");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("\"state\":\"already done\""), std::string::npos) << again.out;
  EXPECT_EQ(read_file(run_dir + "/summary.json"), summary);
  EXPECT_EQ(sweep_status(out, runs)[0].state, "done");
}

TEST(SweepStatus, ReadsFilesOnlyAndCollectListsRunsNotFinished) {
  TempDir tmp("sac_sweep_status");
  const std::string out = tmp / "out";
  ASSERT_EQ(sac("sweep plan " + write_sweep(tmp, tiny_sweep(2000)) + " --out " + out).code, 0);
  std::vector<PlannedRun> runs = read_plan(out);
  ASSERT_EQ(runs.size(), 4u);
  // task 0 done; task 1 "running" in this (live) process with a logged step; task 2 "running"
  // in a process that is gone; task 3 failed
  ASSERT_EQ(sac("sweep run " + out + " --task 0 --quiet").code, 0);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::filesystem::create_directories(planned_run_dir(out, runs[1]));
  write_file(planned_run_dir(out, runs[1]) + "/metrics.jsonl", "{\"step\":1000}\n{\"step\":20");
  write_file(planned_run_dir(out, runs[1]) + "/eval.csv",
             "step,wall_seconds,mean_return,min_return,max_return,episodes\n1000,0.5,-1200.5,-1300,-1100,2\n");
  write_file(sweep_state_path(out, runs[1]),
             json{{"state", "running"}, {"host", host}, {"pid", ::getpid()}}.dump());
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ::waitpid(gone, nullptr, 0);
  write_file(sweep_state_path(out, runs[2]),
             json{{"state", "running"}, {"host", host}, {"pid", gone}}.dump());
  write_file(sweep_state_path(out, runs[3]),
             json{{"state", "failed"}, {"error", "disk full | writing x"}}.dump());

  Out r = sac("sweep status " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<json> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(json::parse(l));
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0]["state"], "done");
  EXPECT_EQ(lines[0]["steps"], 2000);
  EXPECT_EQ(lines[1]["state"], "running");
  EXPECT_EQ(lines[1]["steps"], 1000);  // the half-written line is not read
  EXPECT_EQ(lines[1]["eval_return"], -1200.5);
  EXPECT_EQ(lines[2]["state"], "failed");
  EXPECT_NE(lines[2]["error"].get<std::string>().find("ended without recording"), std::string::npos);
  EXPECT_EQ(lines[3]["state"], "failed");
  EXPECT_EQ(lines[3]["error"], "disk full | writing x");
  EXPECT_EQ(lines[4]["counts"], (json{{"done", 1}, {"failed", 2}, {"running", 1}}));

  Out c = sac("sweep collect " + out);
  ASSERT_EQ(c.code, 0) << c.err;
  const std::string csv = read_file(out + "/results.csv");
  const std::string md = read_file(out + "/results.md");
  // every seed a row, finished or not; the unfinished listed in results.md
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  EXPECT_NE(csv.find(runs[0].id + ",0.005,1,done,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(runs[1].id + ",0.005,2,running,,"), std::string::npos) << csv;
  EXPECT_NE(md.find("| `sac.tau=0.005` | 1 of 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| " + runs[1].id + " | running | 1000 / 2000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| " + runs[3].id + " | failed | - / 2000 | disk full / writing x |"),
            std::string::npos) << md;
  EXPECT_TRUE(path_exists(out + "/plots/Pendulum-v1_sac.tau=0.005.svg"));
  EXPECT_FALSE(path_exists(out + "/plots/Pendulum-v1_sac.tau=0.01.svg"));
  EXPECT_NE(md.find("Curves of every setting: [plots/Pendulum-v1.svg]"), std::string::npos) << md;
}

TEST(SweepPlots, TheTaskPlotNestsEverySettingsPlotWithItsIdsMadeUnique) {
  const std::string a =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"430\" viewBox=\"0 0 1000 430\">"
      "<desc id=\"sac-plot-data\">{}</desc><path id=\"mean-steps\"/><use href=\"#mean-steps\"/></svg>\n";
  const std::string both = stack_svgs({a, a}, "Pendulum-v1: every setting");
  EXPECT_EQ(both.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"860\"", 0), 0u)
      << both;
  EXPECT_NE(both.find("<svg x=\"0\" y=\"0\" xmlns"), std::string::npos) << both;
  EXPECT_NE(both.find("<svg x=\"0\" y=\"430\" xmlns"), std::string::npos) << both;
  for (const char* id : {"id=\"p0-mean-steps\"", "id=\"p1-mean-steps\"", "href=\"#p1-mean-steps\"",
                         "id=\"p0-sac-plot-data\""})
    EXPECT_NE(both.find(id), std::string::npos) << id << " missing in " << both;
  EXPECT_EQ(both.find("id=\"mean-steps\""), std::string::npos) << both;
}

TEST(SweepSlurm, ScriptHoldsTheArrayRequeueSignalGresAndExtraLines) {
  TempDir tmp("sac_sweep_slurm");
  const std::string out = tmp / "out";
  json j = tiny_sweep(1000);
  j["set"]["env.threads"] = 3;
  ASSERT_EQ(sac("sweep plan " + write_sweep(tmp, j) + " --out " + out).code, 0);
  // --submit without sbatch on the PATH: refused before the script is written
  std::string no_sbatch = "PATH=/nonexistent " + std::string(SAC_BINARY) + " sweep slurm " + out +
                          " --submit 2>&1";
  FILE* p = popen(no_sbatch.c_str(), "r");
  char buf[1024] = {0};
  std::string text;
  while (fgets(buf, sizeof buf, p)) text += buf;
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2) << text;
  EXPECT_NE(text.find("--submit needs 'sbatch' on the PATH"), std::string::npos) << text;
  EXPECT_FALSE(path_exists(out + "/sweep.sbatch"));
  expect_refused(sac("sweep slurm " + out + " --time 1:x"), "--time must be a Slurm time");
  expect_refused(sac("sweep slurm " + out + " --time 4 --signal-seconds 300"),
                 "--signal-seconds 300 must be less than --time 4 (240 s)");
  EXPECT_FALSE(path_exists(out + "/sweep.sbatch"));

  Out r = sac("sweep slurm " + out + " --partition gpu --max-parallel 2 --time 1-00:00:00 "
              "--sbatch=--account=rl --sbatch=--qos=low");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string script = read_file(out + "/sweep.sbatch");
  for (const char* line :
       {"#SBATCH --array=0-3%2\n", "#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@300\n",
        "#SBATCH --gres=gpu:1\n", "#SBATCH --cpus-per-task=3\n", "#SBATCH --partition=gpu\n",
        "#SBATCH --time=1-00:00:00\n", "#SBATCH --account=rl\n", "#SBATCH --qos=low\n",
        "sweep run \"$dir\" --task \"$SLURM_ARRAY_TASK_ID\"", "scontrol requeue"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " missing in\n" << script;
  // no GPUs asked for: no --gres line
  ASSERT_EQ(sac("sweep slurm " + out + " --gpus-per-task 0").code, 0);
  EXPECT_EQ(read_file(out + "/sweep.sbatch").find("--gres"), std::string::npos);
  EXPECT_NE(read_file(out + "/sweep.sbatch").find("--array=0-3\n"), std::string::npos);
}

TEST(SweepLocal, RunsEveryTaskNAtATimeToTheSamePoliciesAsOneByOne) {
  TempDir tmp("sac_sweep_local");
  const std::string sweep = write_sweep(tmp, tiny_sweep(1500, {1, 2, 3}, 2));
  ASSERT_EQ(sac("sweep plan " + sweep + " --out " + (tmp / "a")).code, 0);
  ASSERT_EQ(sac("sweep plan " + sweep + " --out " + (tmp / "b")).code, 0);
  Out r = sac("sweep local " + (tmp / "a") + " --jobs 2 --gpus 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"counts\":{\"done\":4}"), std::string::npos) << r.out;
  std::vector<PlannedRun> runs = read_plan(tmp / "b");
  for (const PlannedRun& run : runs) {
    ASSERT_EQ(sac("sweep run " + (tmp / "b") + " --task " + std::to_string(run.task) + " --quiet").code, 0);
    std::vector<SeedResult> a = seed_results(tmp / "a", run), b = seed_results(tmp / "b", run);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_FALSE(a[i].summary.is_null()) << a[i].run_dir << " did not finish";
      const std::string policy = read_file(a[i].run_dir + "/policy.safetensors");
      EXPECT_FALSE(policy.empty()) << a[i].run_dir;
      EXPECT_TRUE(policy == read_file(b[i].run_dir + "/policy.safetensors"))
          << a[i].run_dir << ": sweep local differs from sweep run one by one";
    }
  }
}

}  // namespace
}  // namespace sac

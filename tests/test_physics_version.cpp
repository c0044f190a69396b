// test_physics_version.cpp: every run records the MuJoCo version its tasks stepped on, and a run
// is never resumed on other physics.
//   - config.json, the checkpoint's metadata and the policy file's config name this build's
//     MuJoCo (mujoco_version(), the library the binary loads);
//   - a checkpoint of a MuJoCo task written with another version (2.2.2), or with none recorded
//     (every checkpoint before versions were recorded came from Debian's 2.2.2), is refused on
//     resume with both versions named; a Pendulum-v1 run (no MuJoCo) resumes whatever it names;
//   - a new run from a config naming another version records this build's.
// Run: sac_tests --gtest_filter='PhysicsVersion*'
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/checkpoint.h"
#include "formats/whole_file.h"
#include "sac/env.h"
#include "sac/errors.h"
#include "sac/safetensors.h"
#include "sac/trainer.h"
#include "small_run.h"
#include "test_files.h"

namespace sac {
namespace {

using nlohmann::json;

// the small run on `env_id`, `steps` env steps, a checkpoint at the end
Config small_task_run(const std::string& env_id, int64_t steps) {
  return test::small_config(steps, {"env.id=" + env_id, "train.checkpoint_every=" +
                                                             std::to_string(steps)});
}

// rewrites the main file of the run's latest checkpoint with its MuJoCo version set to `version`
// ("" removes it), its checksum stamped anew
void rewrite_version(const std::string& run_dir, const std::string& version) {
  CheckpointFiles files = latest_checkpoint(run_dir + "/checkpoints");
  ASSERT_GE(files.step, 0);
  SafetensorsFile main = SafetensorsFile::load(files.main);
  if (version.empty()) main.metadata.erase("mujoco_version");
  else main.metadata["mujoco_version"] = version;
  main.stamp_checksum();
  main.save(files.main);
}

// the message of the error a resume of `run_dir` to `steps` throws ("" when it resumes)
std::string resume_error(const std::string& run_dir, int64_t steps) {
  try {
    Config c = resume_config(run_dir, {"train.total_steps=" + std::to_string(steps)});
    resume(c, run_dir, test::quiet());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(PhysicsVersion, RunFilesNameThisBuildsMujoco) {
  const std::string here = mujoco_version();
  EXPECT_EQ(here, "4.0.1");
  test::TempDir dir;
  const std::string run = dir.path() + "/run";
  train(small_task_run("Hopper-v5", 150), run, test::quiet());

  json config = json::parse(*read_whole_file(run + "/config.json"));
  EXPECT_EQ(config["mujoco_version"], here);
  CheckpointFiles files = latest_checkpoint(run + "/checkpoints");
  SafetensorsFile main = SafetensorsFile::load(files.main);
  EXPECT_EQ(main.metadata.at("mujoco_version"), here);
  SafetensorsFile policy = SafetensorsFile::load(run + "/policy.safetensors");
  EXPECT_EQ(json::parse(policy.metadata.at("config"))["mujoco_version"], here);
}

TEST(PhysicsVersion, AMujocoTaskIsNeverResumedOnOtherPhysics) {
  test::TempDir dir;
  const std::string run = dir.path() + "/run";
  train(small_task_run("Hopper-v5", 150), run, test::quiet());

  rewrite_version(run, "2.2.2");
  std::string error = resume_error(run, 300);
  EXPECT_NE(error.find("MuJoCo 2.2.2"), std::string::npos) << error;
  EXPECT_NE(error.find("MuJoCo " + mujoco_version()), std::string::npos) << error;
  EXPECT_NE(error.find("Hopper-v5"), std::string::npos) << error;

  rewrite_version(run, "");  // written before versions were recorded
  error = resume_error(run, 300);
  EXPECT_NE(error.find("none recorded: Debian's 2.2.2"), std::string::npos) << error;

  rewrite_version(run, mujoco_version());  // the same physics resumes
  EXPECT_EQ(resume_error(run, 300), "");
}

TEST(PhysicsVersion, APendulumRunResumesWhateverItNames) {
  test::TempDir dir;
  const std::string run = dir.path() + "/run";
  train(small_task_run("Pendulum-v1", 150), run, test::quiet());
  rewrite_version(run, "2.2.2");
  EXPECT_EQ(resume_error(run, 300), "");
}

TEST(PhysicsVersion, ANewRunRecordsThisBuildsVersion) {
  test::TempDir dir;
  Config old = small_task_run("Pendulum-v1", 120);
  old.mujoco_version = "2.2.2";  // e.g. a copied config.json of an older run
  train(old, dir.path() + "/run", test::quiet());
  json config = json::parse(*read_whole_file(dir.path() + "/run/config.json"));
  EXPECT_EQ(config["mujoco_version"], mujoco_version());
}

}  // namespace
}  // namespace sac

// fuzz_checkpoint.cpp: libFuzzer target of the resume path (`sac train --resume`, resume() in
// run/trainer.cpp): parse_checkpoint (both files' layout, format, version, checksums, that they
// are a pair, the stored config), check_resumable and check_same_physics against the run's
// config, restore_checkpoint
// into live components (every component's state tensors: the agent's networks, Adam moments and
// counters, the replay ring, the env pools' physics and noise state, the trainer's loop state),
// then StepLoop::resume. The components are built once, from the config of the reference
// checkpoint in tests/fuzz/checkpoint_pair/ (a Pendulum-v1 run, README.md here), except the
// replay rings and the step loop, made for each input as a resume makes them.
// The first input byte picks the mode: bit 0 set, the rest of the input is the replay file (the
// main file is the reference one), else the main file (with the reference replay file); bit 1
// set, the fuzzed file is parsed as a safetensors file first and, when that succeeds, stamped
// again (checksum, and the main file's replay_checksum), so mutations reach the checks behind
// the checksums. Every input is accepted or refused with InputError (the trainer turns
// StepLoop::resume's std::invalid_argument into a CheckpointError: so does this target).
// Run: build-fuzz/fuzz_checkpoint tests/fuzz/corpus/checkpoint (README.md here).
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "formats/checkpoint.h"
#include "formats/whole_file.h"
#include "fuzz_common.h"
#include "run/step_loop.h"
#include "sac/backend.h"
#include "sac/env_pool.h"
#include "sac/replay_buffer.h"

namespace {

using namespace sac;

const std::string kPairDir = SAC_SOURCE_DIR "/tests/fuzz/checkpoint_pair";
constexpr int64_t kStep = 150;

// the reference pair and the components of its run, built once
struct Reference {
  CheckpointFiles files = checkpoint_files("fuzz/checkpoints", kStep);
  std::string main, replay;
  Config config;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<EnvPool> pool, eval_pool;
  std::unique_ptr<Agent> agent;
  int64_t capacity = 0;

  Reference() {
    const CheckpointFiles on_disk = checkpoint_files(kPairDir, kStep);
    main = read_whole_file(on_disk.main).value();
    replay = read_whole_file(on_disk.replay).value();
    config = parse_checkpoint(files, main, replay).config;
    const Config& c = config;
    backend = make_backend("cpu", 1);
    const std::vector<uint64_t> seeds = seed_list(c);
    pool = std::make_unique<EnvPool>(c.env_id, seeded_envs(seeds, c.num_envs), 1);
    if (c.eval_episodes > 0)
      eval_pool = std::make_unique<EnvPool>(c.env_id, seeded_envs(seeds, c.eval_episodes, 7), 1);
    const int O = pool->spec().obs_dim, A = pool->spec().act_dim;
    agent = std::make_unique<Agent>(
        *backend, AgentSpec::from_config(c, O, A, std::max(c.num_envs, c.eval_episodes)));
    // sized as replay_capacity() (run/trainer.cpp, not linked here) sizes a run's ring
    capacity = std::min<int64_t>(c.buffer_size, c.total_steps + c.num_envs);
  }
};

// `bytes` stamped again when it parses as a safetensors file
std::string restamped(const std::string& bytes, const std::string* replay_checksum) {
  try {
    SafetensorsFile f = SafetensorsFile::parse(bytes, "fuzz.safetensors");
    if (replay_checksum) f.metadata["replay_checksum"] = *replay_checksum;
    f.stamp_checksum();
    return f.bytes();
  } catch (const InputError&) {
    return bytes;
  }
}

std::string checksum_of(const std::string& bytes) {
  try {
    return SafetensorsFile::parse(bytes, "fuzz.safetensors").metadata.at("checksum");
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Reference ref;
  if (size == 0) return 0;
  const bool fuzz_replay = data[0] & 1, restamp = data[0] & 2;
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string main = ref.main, replay = ref.replay;
  if (fuzz_replay) {
    replay = restamp ? restamped(input, nullptr) : input;
    // the main file names the fuzzed replay file as its pair
    const std::string replay_checksum = checksum_of(replay);
    if (restamp) main = restamped(ref.main, &replay_checksum);
  } else {
    const std::string ref_checksum = checksum_of(ref.replay);
    main = restamp ? restamped(input, &ref_checksum) : input;
  }
  fuzz::expect_accept_or_refuse([&] {
    LoadedCheckpoint ckpt = parse_checkpoint(ref.files, main, replay);
    check_resumable(ckpt.config, ref.config);
    check_same_physics(ckpt, ref.config);
    // a resume restores into fresh rings (only an empty ring takes a replay file)
    const int O = ref.pool->spec().obs_dim, A = ref.pool->spec().act_dim;
    SeedRings rings(*ref.backend, seed_list(ref.config).size(), ref.capacity, O, A);
    StepLoop loop(ref.config, false, *ref.backend, *ref.pool, *ref.agent, rings.rings(), nullptr);
    TrainerState st;
    restore_checkpoint(ckpt, *ref.agent, rings.rings(), *ref.pool, ref.eval_pool.get(), st);
    try {
      loop.resume(st);
    } catch (const std::invalid_argument& e) {
      throw CheckpointError(std::string("cannot resume: ") + e.what());
    }
  });
  return 0;
}

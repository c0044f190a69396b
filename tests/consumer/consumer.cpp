// consumer.cpp: steps envs, trains, loads the trained policy and acts, through the installed
// headers and libraries only (find_package(sac_engine)). Usage: consumer WORK_DIR. Prints
// "consumer: ok" and exits 0 when everything checks out.
#include <sac/backend.h>
#include <sac/config.h>
#include <sac/env_pool.h>
#include <sac/trainer.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "consumer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: consumer WORK_DIR");
  const std::string work = argv[1];
  try {
    // a MuJoCo task: its model comes from inside the library
    sac::EnvPool pool("Hopper-v5", 4, 0, 2);
    pool.reset();
    std::vector<float> actions(4 * pool.spec().act_dim, 0.1f);
    for (int t = 0; t < 10; ++t) pool.step(actions.data());
    if (pool.spec().obs_dim != 11 || !std::isfinite(pool.obs()[0]))
      return fail("Hopper-v5 steps wrong");

    // a short training run
    sac::Config c = sac::load_config(
        "", {"env.id=\"Pendulum-v1\"", "device=\"cpu\"", "sac.hidden=[16,16]", "sac.batch_size=16",
             "train.total_steps=300", "train.warmup_steps=100", "train.eval_every=0",
             "train.eval_episodes=2", "train.threads=1"});
    sac::TrainSummary s = sac::train(c, work + "/run", false);
    if (s.steps != 300 || s.updates != 200) return fail("the run did not train as configured");

    // its policy, loaded and acting
    sac::LoadedPolicy p = sac::load_policy(work + "/run/policy.safetensors", "cpu", 1);
    sac::DeviceArray<float> obs(*p.backend, 3), act(*p.backend, 1);
    const float o[3] = {1.0f, 0.0f, 0.5f};
    obs.upload(o, 3);
    p.policy->act(1, obs.data(), true, act.data());
    float a = 0;
    act.download(&a, 1);
    if (!(a >= -1.0f && a <= 1.0f)) return fail("the policy's action is outside [-1, 1]");
    std::printf("consumer: ok (Hopper-v5 obs[0] %.4f, Pendulum-v1 final eval %.1f, action %.4f)\n",
                pool.obs()[0], s.final_eval_return, a);
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

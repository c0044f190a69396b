// point_mass_plugin.cpp: the task plugins of the plugin tests (tests/test_plugins.cpp,
// python/tests/test_plugins.py), one source built four ways (CMakeLists.txt, sac_add_plugin):
//   SAC_TEST_PLUGIN_GOOD           registers PluginPointMass-v0: a point mass on two slide joints
//                                  (its MJCF model below) pushed towards the origin; obs qpos,
//                                  qvel (4); reward -distance - ctrl_cost_weight * |a|^2 (terms
//                                  reward_dist, reward_ctrl); 100 steps an episode
//   SAC_TEST_PLUGIN_CLASH          registers Hopper-v5, an id sac already has
//   SAC_TEST_PLUGIN_NO_ENTRY       exports no registration function
//   SAC_TEST_PLUGIN_OTHER_VERSION  a registration function built against task API version 1000
// Run: sac_tests --gtest_filter='Plugin*'
#include <sac/mujoco_env.h>
#include <sac/plugin.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

constexpr const char* kModel = R"(<mujoco model="point_mass">
  <option timestep="0.02"/>
  <worldbody>
    <body name="mass">
      <joint name="x" type="slide" axis="1 0 0" damping="1"/>
      <joint name="y" type="slide" axis="0 1 0" damping="1"/>
      <geom type="sphere" size="0.05" mass="1"/>
    </body>
  </worldbody>
  <actuator>
    <motor joint="x" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="y" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>)";

// the model, compiled once per process and kept for its life (envs share it read-only)
std::shared_ptr<const mjModel> point_mass_model() {
  static const mjModel* model = [] {
    char error[1000] = "";
    mjSpec* spec = mj_parseXMLString(kModel, nullptr, error, sizeof error);
    if (!spec) throw std::runtime_error(std::string("point mass model: ") + error);
    mjModel* m = mj_compile(spec, nullptr);
    mj_deleteSpec(spec);
    if (!m) throw std::runtime_error("point mass model does not compile");
    return m;
  }();
  return std::shared_ptr<const mjModel>(model, [](const mjModel*) {});
}

class PointMass final : public sac::MujocoEnv {
 public:
  explicit PointMass(const sac::TaskKwargs& k)
      : MujocoEnv(point_mass_model(), k.integer("frame_skip"), false),
        m_ctrl_cost_weight(k.number("ctrl_cost_weight")),
        m_reset_noise(k.number("reset_noise_scale")) {
    init_spec("PluginPointMass-v0", 4, {"reward_dist", "reward_ctrl"}, 100);
  }

  void reset(sac::HostRng& rng, double* obs) override {
    reset_state(rng, {sac::ResetNoise::Kind::uniform, m_reset_noise},
                {sac::ResetNoise::Kind::uniform, 0.1 * m_reset_noise});
    write_obs(obs);
  }

  sac::StepResult step(const double* action, double* obs) override {
    sac::StepResult r;
    r.unstable = do_simulation(action);
    write_obs(obs);
    // closer to the origin is better; pushing costs
    r.set_reward(-std::hypot(m_data->qpos[0], m_data->qpos[1]),
                 -m_ctrl_cost_weight * action_sq_norm(action));
    return r;
  }

 private:
  void write_obs(double* obs) const {
    obs[0] = m_data->qpos[0], obs[1] = m_data->qpos[1];
    obs[2] = m_data->qvel[0], obs[3] = m_data->qvel[1];
  }

  double m_ctrl_cost_weight, m_reset_noise;
};

sac::TaskDefinition point_mass(const std::string& id) {
  return {id,
          {{"frame_skip", sac::TaskKwarg::Type::integer, 2, "mj_step calls per env step"},
           {"ctrl_cost_weight", sac::TaskKwarg::Type::number, 0.1, "weight of the control cost"},
           {"reset_noise_scale", sac::TaskKwarg::Type::number, 0.5,
            "half-width of the uniform start position (a tenth of it for the velocity)"}},
          [](const sac::TaskKwargs& k) { return std::make_unique<PointMass>(k); },
          100};
}

}  // namespace

#if defined(SAC_TEST_PLUGIN_GOOD)
SAC_PLUGIN(tasks) { tasks.add(point_mass("PluginPointMass-v0")); }
#elif defined(SAC_TEST_PLUGIN_CLASH)
SAC_PLUGIN(tasks) {
  tasks.add(point_mass("PluginPointMassToo-v0"));
  tasks.add(point_mass("Hopper-v5"));
}
#elif defined(SAC_TEST_PLUGIN_NO_ENTRY)
extern "C" __attribute__((visibility("default"))) int sac_plugin_other_function() {
  return (int)point_mass("unused").kwargs.size();
}
#elif defined(SAC_TEST_PLUGIN_OTHER_VERSION)
// what a plugin built against another version of sac/plugin.h returns: its own version, and it
// adds nothing to a registrar of another version
extern "C" __attribute__((visibility("default"))) int sac_plugin_register(int, void*) {
  return 1000;
}
#else
#error "build with one of SAC_TEST_PLUGIN_GOOD, _CLASH, _NO_ENTRY or _OTHER_VERSION"
#endif

// test_task_api.cpp: the task API (include/sac/task.h, include/sac/mujoco_env.h): tasks
// registered by id behind make_env() and env_ids() (any sac::Env, or a MujocoEnv over a model
// file of the test's own), their keyword arguments resolved against the declaration (defaults,
// types, ranges, unknown names), max_episode_steps, and the built-in tasks' Gymnasium v5
// keyword arguments changing what they should (observation size, reward weights, termination,
// model files that do not load or do not fit).
// Run: ./sac_tests --gtest_filter='TaskApi*'   (about a second)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sac/env_pool.h"
#include "sac/mujoco_env.h"
#include "sac/task.h"

namespace sac {
namespace {

using nlohmann::json;

// a task without MuJoCo: the observation counts the steps, the reward is the action times a
// weight (keyword argument "gain")
class Counter final : public Env {
 public:
  explicit Counter(double gain) : m_gain(gain) {
    m_spec.id = "TestCounter-v0";
    m_spec.obs_dim = 1;
    m_spec.act_dim = 1;
    m_spec.action_low = {-1.0};
    m_spec.action_high = {1.0};
    m_spec.max_episode_steps = 7;
    m_spec.reward_terms = {"reward_gain"};
  }
  const EnvSpec& spec() const override { return m_spec; }
  void reset(HostRng&, double* obs) override { obs[0] = m_steps = 0; }
  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.set_reward(m_gain * action[0]);
    obs[0] = ++m_steps;
    return r;
  }

 private:
  EnvSpec m_spec;
  double m_gain;
  int m_steps = 0;
};

// writes `text` to a file of the test's own and returns its path ("./..." or "/tmp/...")
std::string write_model(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// a slider with one motor: the smallest model a MuJoCo task can run on
const char* kSliderXml = R"(<mujoco model="slider">
  <option timestep="0.01"/>
  <worldbody>
    <body name="cart">
      <joint name="slide" type="slide" axis="1 0 0"/>
      <geom type="box" size="0.1 0.1 0.1" mass="1"/>
    </body>
  </worldbody>
  <actuator><motor joint="slide" ctrlrange="-1 1" ctrllimited="true" gear="10"/></actuator>
</mujoco>)";

// a MuJoCo task written on the public header: move the cart right; reward = x velocity
class SliderTask final : public MujocoEnv {
 public:
  explicit SliderTask(const TaskKwargs& k)
      : MujocoEnv(load_xml_file(k.string("xml_file")), k.integer("frame_skip"), false) {
    m_cart = body_id("cart");
    init_spec("TestSlider-v0", nq() + nv(), {"reward_forward"}, 20);
  }
  void reset(HostRng& rng, double* obs) override {
    reset_state(rng, {ResetNoise::Kind::uniform, 0.01}, {ResetNoise::Kind::uniform, 0.01});
    write_obs(obs);
  }
  StepResult step(const double* action, double* obs) override {
    StepResult r;
    r.set_reward(simulate_forward(action, r.unstable, [&] { return m_data->xpos[3 * m_cart]; }));
    write_obs(obs);
    return r;
  }

 private:
  void write_obs(double* obs) const {
    obs[0] = m_data->qpos[0];
    obs[1] = m_data->qvel[0];
  }
  int m_cart = -1;
};

// registers the test tasks once per process (the registry refuses an id twice)
void register_test_tasks() {
  static bool done = false;
  if (done) return;
  done = true;
  register_env({"TestCounter-v0",
                {{"gain", TaskKwarg::Type::number, 2.0, "reward per unit of action"}},
                [](const TaskKwargs& k) { return std::make_unique<Counter>(k.number("gain")); },
                7});
  std::string xml = write_model("slider.xml", kSliderXml);
  register_env({"TestSlider-v0",
                {{"xml_file", TaskKwarg::Type::string, xml, "model"},
                 {"frame_skip", TaskKwarg::Type::integer, 2, "mj_step calls per step"}},
                [](const TaskKwargs& k) { return std::make_unique<SliderTask>(k); },
                20});
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(TaskApi, RegisteredTasksFollowTheBuiltInOnesAndAreMadeByMakeEnv) {
  register_test_tasks();
  std::vector<std::string> ids = env_ids();
  ASSERT_GE(ids.size(), 13u);
  EXPECT_EQ(ids[0], "Pendulum-v1");
  EXPECT_EQ(ids[10], "Pusher-v5");
  EXPECT_NE(std::find(ids.begin() + 11, ids.end(), "TestCounter-v0"), ids.end());
  std::unique_ptr<Env> env = make_env("TestCounter-v0");
  double obs = -1, action = 0.5;
  HostRng rng(0, 0);
  env->reset(rng, &obs);
  StepResult r = env->step(&action, &obs);
  EXPECT_EQ(r.reward, 1.0);  // the default gain 2
  EXPECT_EQ(obs, 1.0);
  r = make_env("TestCounter-v0", json{{"gain", -3}})->step(&action, &obs);
  EXPECT_EQ(r.reward, -1.5);
  EXPECT_EQ(r.reward_terms[0], -1.5);
}

TEST(TaskApi, AnIdIsRegisteredOnce) {
  register_test_tasks();
  auto again = [] {
    register_env("TestCounter-v0", [] { return std::make_unique<Counter>(1.0); });
  };
  EXPECT_THROW(again(), InputError);
  EXPECT_NE(message_of(again).find("'TestCounter-v0' is already registered"), std::string::npos);
  EXPECT_THROW(register_env("Hopper-v5", [] { return std::make_unique<Counter>(1.0); }),
               InputError);
  EXPECT_THROW(register_env("", [] { return std::make_unique<Counter>(1.0); }), InputError);
  // a keyword twice, or one under the name the registry keeps for itself
  TaskKwarg k{"gain", TaskKwarg::Type::number, 1.0, "x"};
  auto make = [](const TaskKwargs&) { return std::make_unique<Counter>(1.0); };
  EXPECT_THROW(register_env({"TestTwice-v0", {k, k}, make}), InputError);
  TaskKwarg steps{"max_episode_steps", TaskKwarg::Type::integer, 5, "x"};
  EXPECT_THROW(register_env({"TestSteps-v0", {steps}, make}), InputError);
  EXPECT_THROW(make_env("NoSuchTask-v0"), std::invalid_argument);
}

TEST(TaskApi, KeywordArgumentsAreCheckedByNameTypeAndRange) {
  register_test_tasks();
  std::string unknown = message_of([] { make_env("Ant-v5", json{{"ctrl_cost", 0.1}}); });
  EXPECT_NE(unknown.find("Ant-v5 takes no keyword 'ctrl_cost'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("ctrl_cost_weight"), std::string::npos) << unknown;  // the known ones
  EXPECT_NE(unknown.find("max_episode_steps"), std::string::npos) << unknown;
  EXPECT_THROW(make_env("Ant-v5", json{{"ctrl_cost", 0.1}}), InputError);

  std::string wrong_type = message_of([] { make_env("Ant-v5", json{{"ctrl_cost_weight", "a"}}); });
  EXPECT_NE(wrong_type.find("'ctrl_cost_weight'"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("\"a\""), std::string::npos) << wrong_type;
  EXPECT_THROW(make_env("Hopper-v5", json{{"frame_skip", 1.5}}), InputError);
  EXPECT_THROW(make_env("Hopper-v5", json{{"frame_skip", 0}}), InputError);
  EXPECT_THROW(make_env("Hopper-v5", json{{"terminate_when_unhealthy", 1}}), InputError);
  EXPECT_THROW(make_env("Hopper-v5", json{{"healthy_z_range", json::array({1.0})}}), InputError);
  EXPECT_THROW(make_env("Hopper-v5", json{{"healthy_z_range", json::array({2.0, 1.0})}}),
               InputError);
  EXPECT_THROW(make_env("Hopper-v5", json{{"max_episode_steps", 0}}), InputError);
  EXPECT_THROW(make_env("Hopper-v5", json::array()), InputError);

  // every declared name with its default, the given ones replaced
  TaskKwargs k = resolve_kwargs("Hopper-v5", json{{"ctrl_cost_weight", 0.5}});
  EXPECT_EQ(k.number("ctrl_cost_weight"), 0.5);
  EXPECT_EQ(k.integer("frame_skip"), 4);
  EXPECT_EQ(k.string("xml_file"), "hopper.xml");
  EXPECT_EQ(k.number_pair("healthy_z_range").first, 0.7);
  EXPECT_TRUE(std::isinf(k.number_pair("healthy_z_range").second));  // null: infinite
  EXPECT_EQ(k.integer("max_episode_steps"), 1000);
  EXPECT_EQ(resolve_kwargs("Reacher-v5", json::object()).integer("max_episode_steps"), 50);
  EXPECT_EQ(task_kwargs("Pusher-v5").back().name, "max_episode_steps");
  EXPECT_EQ(task_kwargs("Pusher-v5").back().default_value, 100);
}

TEST(TaskApi, MaxEpisodeStepsSetsTheTimeLimitOfAnyTask) {
  register_test_tasks();
  EXPECT_EQ(make_env("Hopper-v5", json{{"max_episode_steps", 30}})->spec().max_episode_steps, 30);
  std::unique_ptr<Env> counter = make_env("TestCounter-v0", json{{"max_episode_steps", 3}});
  EXPECT_EQ(counter->spec().max_episode_steps, 3);
  // the pool ends episodes there
  EnvPool pool("TestCounter-v0", json{{"max_episode_steps", 3}}, seeded_envs({0}, 1));
  pool.reset();
  std::vector<float> action = {0.0f};
  for (int t = 1; t <= 3; ++t) {
    pool.step(action.data());
    EXPECT_EQ(pool.truncated()[0] != 0, t == 3) << t;
  }
}

TEST(TaskApi, AMujocoTaskOnTheTestsOwnModel) {
  register_test_tasks();
  std::unique_ptr<Env> env = make_env("TestSlider-v0");
  ASSERT_EQ(env->spec().obs_dim, 2);
  ASSERT_EQ(env->spec().act_dim, 1);
  EXPECT_EQ(env->spec().max_episode_steps, 20);
  auto* mujoco = dynamic_cast<MujocoEnv*>(env.get());
  ASSERT_NE(mujoco, nullptr);
  EXPECT_DOUBLE_EQ(mujoco->dt(), 0.02);
  double obs[2], push = 1.0;
  HostRng rng(3, 0);
  env->reset(rng, obs);
  // the reward is the cart body's x velocity from xpos, as the last mj_step left it
  const double x0 = obs[0], body_x0 = mujoco->data()->xpos[3];
  StepResult r = env->step(&push, obs);
  EXPECT_GT(obs[0], x0);  // pushed right
  EXPECT_EQ(r.reward, (mujoco->data()->xpos[3] - body_x0) / 0.02);
  EXPECT_GT(r.reward, 0.0);
  // frame_skip follows the keyword
  EXPECT_DOUBLE_EQ(
      dynamic_cast<MujocoEnv&>(*make_env("TestSlider-v0", json{{"frame_skip", 4}})).dt(), 0.04);
}

TEST(TaskApi, BuiltInKeywordsChangeObservationRewardAndTermination) {
  EXPECT_EQ(make_env("Ant-v5")->spec().obs_dim, 105);
  EXPECT_EQ(make_env("Ant-v5", json{{"include_cfrc_ext_in_observation", false}})->spec().obs_dim,
            27);
  EXPECT_EQ(make_env("Ant-v5", json{{"exclude_current_positions_from_observation", false}})
                ->spec()
                .obs_dim,
            107);
  EXPECT_EQ(make_env("Humanoid-v5", json{{"include_cinert_in_observation", false},
                                         {"include_cvel_in_observation", false}})
                ->spec()
                .obs_dim,
            348 - 130 - 78);
  EXPECT_EQ(make_env("Hopper-v5", json{{"exclude_current_positions_from_observation", false}})
                ->spec()
                .obs_dim,
            12);

  // the same state and action, the control cost weighted as asked
  std::unique_ptr<Env> a = make_env("HalfCheetah-v5"),
                       b = make_env("HalfCheetah-v5", json{{"ctrl_cost_weight", 0.4}});
  std::vector<double> obs(17), action(6, 0.5);
  HostRng ra(1, 0), rb(1, 0);
  a->reset(ra, obs.data());
  b->reset(rb, obs.data());
  StepResult sa = a->step(action.data(), obs.data()), sb = b->step(action.data(), obs.data());
  EXPECT_DOUBLE_EQ(sa.reward_terms[1], -0.1 * 1.5);
  EXPECT_DOUBLE_EQ(sb.reward_terms[1], -0.4 * 1.5);
  EXPECT_EQ(sa.reward_terms[0], sb.reward_terms[0]);

  // a fallen hopper terminates unless told not to
  for (bool terminate : {true, false}) {
    auto hopper =
        make_env("Hopper-v5", json{{"terminate_when_unhealthy", terminate}, {"healthy_reward", 2}});
    auto& m = dynamic_cast<MujocoEnv&>(*hopper);
    std::vector<double> qpos(6, 0.0), qvel(6, 0.0), o(11), zero(3, 0.0);
    qpos[1] = 0.3;  // below healthy_z_range
    m.set_state(qpos.data(), qvel.data());
    StepResult r = hopper->step(zero.data(), o.data());
    EXPECT_EQ(r.terminated, terminate);
    EXPECT_EQ(r.reward_terms[1], 0.0);  // no healthy reward when unhealthy
  }
}

TEST(TaskApi, AModelFileThatDoesNotLoadOrDoesNotFitIsNamed) {
  std::string missing = message_of([] { make_env("Ant-v5", json{{"xml_file", "/no/such.xml"}}); });
  EXPECT_NE(missing.find("/no/such.xml"), std::string::npos) << missing;
  EXPECT_THROW(make_env("Ant-v5", json{{"xml_file", "/no/such.xml"}}), InputError);

  std::string bad = write_model("broken.xml", "<mujoco><worldbody><body></mujoco>");
  std::string refused = message_of([&] { make_env("Ant-v5", json{{"xml_file", bad}}); });
  EXPECT_NE(refused.find(bad), std::string::npos) << refused;
  EXPECT_NE(refused.find("XML"), std::string::npos) << refused;  // MuJoCo's own message
  EXPECT_THROW(make_env("Ant-v5", json{{"xml_file", bad}}), InputError);

  // a compiled-in name that is not there
  EXPECT_THROW(make_env("Ant-v5", json{{"xml_file", "nosuch.xml"}}), InputError);

  // the slider has no fingertip, no body named main_body
  std::string slider = write_model("slider_fit.xml", kSliderXml);
  std::string reacher = message_of([&] { make_env("Reacher-v5", json{{"xml_file", slider}}); });
  EXPECT_NE(reacher.find("Reacher-v5 needs a model"), std::string::npos) << reacher;
  std::string body = message_of([] { make_env("Ant-v5", json{{"main_body", "no_such_body"}}); });
  EXPECT_NE(body.find("no body named 'no_such_body'"), std::string::npos) << body;
  EXPECT_THROW(make_env("Ant-v5", json{{"main_body", 99}}), InputError);
}

TEST(TaskApi, HumanoidStandupStartsLyingAndIsRewardedForItsHeight) {
  std::unique_ptr<Env> env = make_env("HumanoidStandup-v5");
  ASSERT_EQ(env->spec().obs_dim, 348);
  ASSERT_EQ(env->spec().act_dim, 17);
  EXPECT_EQ(env->spec().reward_terms,
            std::vector<std::string>({"reward_linup", "reward_quadctrl", "reward_impact"}));
  std::vector<double> obs(348), qpos(24), qvel(23), action(17, 0.1);
  HostRng rng(2, 0);
  env->reset(rng, obs.data());
  env->get_state(qpos.data(), qvel.data());
  EXPECT_NEAR(qpos[2], 0.105, 0.011);  // the torso on the floor, plus reset noise
  for (int t = 0; t < 50; ++t) {
    StepResult r = env->step(action.data(), obs.data());
    env->get_state(qpos.data(), qvel.data());
    EXPECT_FALSE(r.terminated);
    // height over the model's timestep; the terms' sum plus Gymnasium's 1
    EXPECT_DOUBLE_EQ(r.reward_terms[0], qpos[2] / 0.003);
    EXPECT_DOUBLE_EQ(r.reward_terms[1], -0.1 * 17 * 0.01);
    EXPECT_LE(r.reward_terms[2], 0.0);
    EXPECT_EQ(r.reward, r.reward_terms[0] + r.reward_terms[1] + r.reward_terms[2] + 1.0);
    EXPECT_EQ(r.info[0], qpos[0]);  // x_position
    EXPECT_EQ(r.info[2], qpos[2] - 0.105);  // z_distance_from_origin
  }
  EXPECT_EQ(env->spec().info_terms.size(), 3u + 4u);  // two tendons: lengths, velocities
}

TEST(TaskApi, InfoHoldsGymnasiumsPositionsAndVelocities) {
  std::unique_ptr<Env> ant = make_env("Ant-v5");
  EXPECT_EQ(ant->spec().info_terms,
            std::vector<std::string>({"x_position", "y_position", "distance_from_origin",
                                      "x_velocity", "y_velocity"}));
  std::vector<double> obs(105), qpos(15), qvel(14), action(8, 0.3);
  HostRng rng(4, 0);
  ant->reset(rng, obs.data());
  StepResult r = ant->step(action.data(), obs.data());
  ant->get_state(qpos.data(), qvel.data());
  EXPECT_EQ(r.info[0], qpos[0]);
  EXPECT_EQ(r.info[1], qpos[1]);
  EXPECT_DOUBLE_EQ(r.info[2], std::hypot(qpos[0], qpos[1]));
  EXPECT_EQ(r.info[3], r.reward_terms[0]);  // forward_reward_weight 1: the x velocity itself
  EXPECT_EQ(make_env("Humanoid-v5")->spec().info_terms.size(), 5u + 4u);
  EXPECT_EQ(make_env("Hopper-v5")->spec().info_terms,
            std::vector<std::string>({"x_position", "z_distance_from_origin", "x_velocity"}));
  EXPECT_TRUE(make_env("Reacher-v5")->spec().info_terms.empty());
}

}  // namespace
}  // namespace sac

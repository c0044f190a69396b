// task.h: the task API. A task is an id, the keyword arguments it takes (Gymnasium's v5 names,
// types, defaults and meaning) and a factory that builds one `sac::Env` from resolved keyword
// arguments. register_env() adds a task to the registry behind make_env() and env_ids(); the
// built-in tasks (envs/) register the same way. A task over a MuJoCo model derives from
// sac::MujocoEnv (sac/mujoco_env.h); any other task implements sac::Env (sac/env.h).
//
//   sac::register_env({"MyTask-v0",
//                      {{"ctrl_cost_weight", sac::TaskKwarg::Type::number, 0.1, "weight of ..."}},
//                      [](const sac::TaskKwargs& k) { return std::make_unique<MyTask>(k); }});
//
// Every task also takes `max_episode_steps` (the TimeLimit; default TaskDefinition's), which
// make_env() applies over the spec's. Tested by tests/test_task_api.cpp (`sac_tests --gtest_filter='TaskApi*'`).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sac/env.h"
#include "sac/errors.h"

namespace sac {

/// Version of this API. A plugin library is refused unless it was built against the same one.
constexpr int kTaskApiVersion = 1;

/// One keyword argument a task takes: its name, JSON type, default and one-line meaning.
struct TaskKwarg {
  enum class Type {
    number,       // a finite number (JSON number), e.g. ctrl_cost_weight
    integer,      // an integer, e.g. frame_skip
    boolean,      // true or false
    string,       // a string, e.g. xml_file
    number_pair,  // [low, high], numbers (infinite ends as null), e.g. healthy_z_range
    name_or_index,  // a string (a name in the model) or a non-negative integer, e.g. main_body
    object,       // a JSON object or null, e.g. default_camera_config
  };
  std::string name;
  Type type = Type::number;
  nlohmann::json default_value;  // as JSON; a pair's infinite end is null
  std::string doc;
};

/// The JSON type of `type` as `sac config keys` prints it ("number", "[number, number]", ...).
std::string kwarg_type_name(TaskKwarg::Type type);

/// Keyword arguments of one task resolved against its declaration: every declared name holds
/// the given value or the default, all of the declared type. Factories read them by name.
class TaskKwargs {
 public:
  TaskKwargs() = default;
  /// `values`: an object holding every declared name (resolve_kwargs() makes one).
  explicit TaskKwargs(nlohmann::json values) : m_values(std::move(values)) {}

  double number(const std::string& name) const;
  int integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
  /// A number pair; a null end is -infinity (first) or +infinity (second).
  std::pair<double, double> number_pair(const std::string& name) const;
  /// The raw JSON value of `name`. Throws std::out_of_range when the task does not declare it.
  const nlohmann::json& value(const std::string& name) const;
  /// Every resolved value, as an object.
  const nlohmann::json& values() const { return m_values; }

 private:
  nlohmann::json m_values = nlohmann::json::object();
};

/// What make_env() builds an env from: the resolved keyword arguments.
using TaskFactory = std::function<std::unique_ptr<Env>(const TaskKwargs&)>;

/// A task as the registry holds it.
struct TaskDefinition {
  std::string id;                 // e.g. "Ant-v5"; unique in the registry
  std::vector<TaskKwarg> kwargs;  // what the task takes besides max_episode_steps
  TaskFactory make;
  int max_episode_steps = 1000;   // default of the max_episode_steps keyword argument
};

/// Adds a task to the registry (thread-safe). Throws InputError when the id is empty, already
/// registered, has no factory, or declares a keyword argument twice or under the reserved name
/// max_episode_steps.
void register_env(TaskDefinition task);

/// Adds a task without keyword arguments (any sac::Env) under `id`.
void register_env(const std::string& id, std::function<std::unique_ptr<Env>()> factory);

/// The registered definition of `id`; throws std::invalid_argument naming the known ids.
const TaskDefinition& task_definition(const std::string& id);

/// Every keyword argument task `id` takes, max_episode_steps last.
std::vector<TaskKwarg> task_kwargs(const std::string& id);

/// `given` (a JSON object) checked against task `id`'s declaration and completed with the
/// defaults. Throws InputError naming the key and value of a wrong type or range, or the
/// task's known names for an unknown one.
TaskKwargs resolve_kwargs(const std::string& id, const nlohmann::json& given);

}  // namespace sac

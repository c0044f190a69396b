// registry.cpp: the task registry behind make_env() and env_ids() (include/sac/task.h): the
// built-in tasks first, in a stable order, then those added with register_env() or by a plugin
// (sac/plugin.h), each with its origin for messages; keyword arguments checked against each
// task's declaration and completed with its defaults.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "formats/quoted.h"
#include "sac/task.h"
#include "tasks.h"

namespace sac {
namespace {

using nlohmann::json;

constexpr const char* kMaxEpisodeSteps = "max_episode_steps";

constexpr const char* kBuiltIn = "sac's built-in tasks";
constexpr const char* kProgram = "this program (sac::register_env)";

struct Registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<TaskDefinition>> tasks;  // stable addresses for task_definition()
  std::vector<std::string> origins;                     // who registered each task
};

void check_definition(const Registry& r, const TaskDefinition& task) {
  if (task.id.empty()) throw InputError("a task needs a non-empty id");
  if (!task.make) throw InputError("task '" + task.id + "' has no factory");
  if (task.max_episode_steps < 1)
    throw InputError("task '" + task.id + "': max_episode_steps must be at least 1");
  for (size_t i = 0; i < r.tasks.size(); ++i)
    if (r.tasks[i]->id == task.id)
      throw InputError("task '" + task.id + "' is already registered by " + r.origins[i]);
  for (size_t i = 0; i < task.kwargs.size(); ++i) {
    const std::string& name = task.kwargs[i].name;
    if (name == kMaxEpisodeSteps)
      throw InputError("task '" + task.id + "': max_episode_steps is every task's own keyword");
    for (size_t j = 0; j < i; ++j)
      if (task.kwargs[j].name == name)
        throw InputError("task '" + task.id + "' declares keyword '" + name + "' twice");
  }
}

Registry& registry() {
  static Registry r;
  // the built-in tasks, registered on first use (a static library drops unreferenced
  // self-registering objects, so they are listed here)
  static std::once_flag built_in;
  std::call_once(built_in, [] {
    for (TaskDefinition& t : built_in_tasks()) {
      check_definition(r, t);
      r.tasks.push_back(std::make_unique<TaskDefinition>(std::move(t)));
      r.origins.push_back(kBuiltIn);
    }
  });
  return r;
}

std::string known_ids(Registry& r) {
  std::string known;
  for (const auto& t : r.tasks) known += (known.empty() ? "" : ", ") + t->id;
  return known;
}

// a value as a refusal shows it: JSON text with no raw bytes of the input (formats/quoted.h)
std::string show(const json& v) { return json_text(v, 200); }

[[noreturn]] void refuse(const std::string& id, const std::string& key, const json& value,
                         const std::string& why) {
  throw InputError(id + " keyword '" + key + "': " + why + ", got " + show(value));
}

bool is_integral(const json& v) {
  return v.is_number_integer() || v.is_number_unsigned() ||
         (v.is_number_float() && std::isfinite(v.get<double>()) &&
          std::floor(v.get<double>()) == v.get<double>());
}

// `v` as a value of `type`, or an InputError naming the key and the value
json checked(const std::string& id, const TaskKwarg& k, const json& v) {
  switch (k.type) {
    case TaskKwarg::Type::number:
      if (!v.is_number() || !std::isfinite(v.get<double>())) refuse(id, k.name, v, "expected a finite number");
      return v.get<double>();
    case TaskKwarg::Type::integer:
      if (!is_integral(v)) refuse(id, k.name, v, "expected an integer");
      return (int64_t)v.get<double>();
    case TaskKwarg::Type::boolean:
      if (!v.is_boolean()) refuse(id, k.name, v, "expected true or false");
      return v;
    case TaskKwarg::Type::string:
      if (!v.is_string()) refuse(id, k.name, v, "expected a string");
      return v;
    case TaskKwarg::Type::number_pair: {
      // null ends are infinite: JSON has no infinity
      bool ok = v.is_array() && v.size() == 2;
      for (size_t i = 0; ok && i < 2; ++i)
        ok = v[i].is_null() || (v[i].is_number() && std::isfinite(v[i].get<double>()));
      if (!ok) refuse(id, k.name, v, "expected [low, high], two numbers (null for an infinite end)");
      double lo = v[0].is_null() ? -INFINITY : v[0].get<double>();
      double hi = v[1].is_null() ? INFINITY : v[1].get<double>();
      if (lo > hi) refuse(id, k.name, v, "expected low <= high");
      return v;
    }
    case TaskKwarg::Type::name_or_index:
      if (v.is_string()) return v;
      if (!is_integral(v) || v.get<double>() < 0)
        refuse(id, k.name, v, "expected a name (string) or a non-negative index");
      return (int64_t)v.get<double>();
    case TaskKwarg::Type::object:
      if (!v.is_object() && !v.is_null()) refuse(id, k.name, v, "expected an object or null");
      return v;
  }
  return v;
}

// the TimeLimit of a task made with another max_episode_steps than its own spec's
class TimeLimited final : public Env {
 public:
  TimeLimited(std::unique_ptr<Env> env, int max_episode_steps)
      : m_env(std::move(env)), m_spec(m_env->spec()) {
    m_spec.max_episode_steps = max_episode_steps;
  }
  const EnvSpec& spec() const override { return m_spec; }
  void reset(HostRng& rng, double* obs) override { m_env->reset(rng, obs); }
  StepResult step(const double* action, double* obs) override { return m_env->step(action, obs); }
  int nq() const override { return m_env->nq(); }
  int nv() const override { return m_env->nv(); }
  void get_state(double* qpos, double* qvel) const override { m_env->get_state(qpos, qvel); }
  std::vector<double> save_state() const override { return m_env->save_state(); }
  void load_state(const std::vector<double>& state) override { m_env->load_state(state); }

 private:
  std::unique_ptr<Env> m_env;
  EnvSpec m_spec;
};

}  // namespace

std::string kwarg_type_name(TaskKwarg::Type type) {
  switch (type) {
    case TaskKwarg::Type::number: return "number";
    case TaskKwarg::Type::integer: return "integer";
    case TaskKwarg::Type::boolean: return "boolean";
    case TaskKwarg::Type::string: return "string";
    case TaskKwarg::Type::number_pair: return "[number, number]";
    case TaskKwarg::Type::name_or_index: return "string or integer";
    case TaskKwarg::Type::object: return "object";
  }
  return "?";
}

const json& TaskKwargs::value(const std::string& name) const {
  auto it = m_values.find(name);
  if (it == m_values.end()) throw std::out_of_range("no keyword argument '" + name + "'");
  return *it;
}

double TaskKwargs::number(const std::string& name) const { return value(name).get<double>(); }
int TaskKwargs::integer(const std::string& name) const { return value(name).get<int>(); }
bool TaskKwargs::boolean(const std::string& name) const { return value(name).get<bool>(); }
std::string TaskKwargs::string(const std::string& name) const {
  return value(name).get<std::string>();
}

std::pair<double, double> TaskKwargs::number_pair(const std::string& name) const {
  const json& v = value(name);
  return {v.at(0).is_null() ? -std::numeric_limits<double>::infinity() : v.at(0).get<double>(),
          v.at(1).is_null() ? std::numeric_limits<double>::infinity() : v.at(1).get<double>()};
}

void register_env(TaskDefinition task) {
  std::vector<TaskDefinition> one;
  one.push_back(std::move(task));
  register_tasks(std::move(one), kProgram);
}

std::vector<std::string> register_tasks(std::vector<TaskDefinition> tasks,
                                        const std::string& origin) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  // every task checked before any is added: all of them or none
  std::vector<std::string> ids;
  for (const TaskDefinition& task : tasks) {
    check_definition(r, task);
    if (std::find(ids.begin(), ids.end(), task.id) != ids.end())
      throw InputError("task '" + task.id + "' is registered twice by " + origin);
    ids.push_back(task.id);
  }
  for (TaskDefinition& task : tasks) {
    r.tasks.push_back(std::make_unique<TaskDefinition>(std::move(task)));
    r.origins.push_back(origin);
  }
  return ids;
}

void register_env(const std::string& id, std::function<std::unique_ptr<Env>()> factory) {
  if (!factory) throw InputError("task '" + id + "' has no factory");
  register_env(TaskDefinition{id, {}, [factory](const TaskKwargs&) { return factory(); }});
}

const TaskDefinition& task_definition(const std::string& id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& t : r.tasks)
    if (t->id == id) return *t;
  throw std::invalid_argument("unknown task '" + id + "' (known: " + known_ids(r) + ")");
}

std::vector<TaskKwarg> task_kwargs(const std::string& id) {
  const TaskDefinition& task = task_definition(id);
  std::vector<TaskKwarg> all = task.kwargs;
  all.push_back({kMaxEpisodeSteps, TaskKwarg::Type::integer, task.max_episode_steps,
                 "steps after which an episode is truncated (the TimeLimit)"});
  return all;
}

TaskKwargs resolve_kwargs(const std::string& id, const json& given) {
  if (!given.is_null() && !given.is_object())
    throw InputError(id + " keyword arguments: expected an object, got " + show(given));
  std::vector<TaskKwarg> declared = task_kwargs(id);
  json values = json::object();
  for (const TaskKwarg& k : declared) values[k.name] = k.default_value;
  if (given.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      const TaskKwarg* k = nullptr;
      for (const TaskKwarg& d : declared) k = d.name == it.key() ? &d : k;
      if (!k) {
        std::string known;
        for (const TaskKwarg& d : declared) known += (known.empty() ? "" : ", ") + d.name;
        throw InputError(id + " takes no keyword " + quoted_text(it.key()) + " (known: " + known + ")");
      }
      values[k->name] = checked(id, *k, it.value());
    }
  }
  if (values[kMaxEpisodeSteps].get<int64_t>() < 1 ||
      values[kMaxEpisodeSteps].get<int64_t>() > std::numeric_limits<int>::max())
    refuse(id, kMaxEpisodeSteps, values[kMaxEpisodeSteps], "expected an integer of at least 1");
  return TaskKwargs(std::move(values));
}

std::unique_ptr<Env> make_env(const std::string& id) { return make_env(id, json::object()); }

std::unique_ptr<Env> make_env(const std::string& id, const json& kwargs) {
  const TaskDefinition& task = task_definition(id);
  TaskKwargs resolved = resolve_kwargs(id, kwargs);
  std::unique_ptr<Env> env = task.make(resolved);
  if (!env) throw std::runtime_error("task '" + id + "': its factory made no env");
  const int steps = resolved.integer(kMaxEpisodeSteps);
  if (steps != env->spec().max_episode_steps && !env->set_max_episode_steps(steps))
    env = std::make_unique<TimeLimited>(std::move(env), steps);
  return env;
}

std::vector<std::string> env_ids() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> ids;
  for (const auto& t : r.tasks) ids.push_back(t->id);
  return ids;
}

}  // namespace sac

// tasks.h: the built-in tasks' definitions (id, keyword arguments, factory; sac/task.h), listed
// by registry.cpp, and helpers for the keyword arguments many of them share.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sac/task.h"

namespace sac {

/// Adds `tasks` to the registry, all of them or none (InputError: the first problem, e.g. an id
/// registered already, naming the origin that holds it). `origin` names who registers them in
/// messages ("plugin '/path/libx.so'"). Returns their ids, in order.
std::vector<std::string> register_tasks(std::vector<TaskDefinition> tasks,
                                        const std::string& origin);

/// Every built-in task, in the order env_ids() lists them.
std::vector<TaskDefinition> built_in_tasks();

TaskDefinition define_pendulum();
TaskDefinition define_inverted_pendulum();
TaskDefinition define_inverted_double_pendulum();
TaskDefinition define_half_cheetah();
TaskDefinition define_hopper();
TaskDefinition define_walker2d();
TaskDefinition define_ant();
TaskDefinition define_humanoid();
TaskDefinition define_humanoid_standup();
TaskDefinition define_swimmer();
TaskDefinition define_reacher();
TaskDefinition define_pusher();

/// `xml_file`: the model file, with Gymnasium's default name of the task's model.
inline TaskKwarg xml_file_kwarg(const std::string& file) {
  return {"xml_file", TaskKwarg::Type::string, file,
          "MuJoCo model: a file name compiled into sac (the default), or a path on disk "
          "(starting with /, . or ~), copied into the run directory at run start"};
}

/// `frame_skip`: mj_step calls per env step.
inline TaskKwarg frame_skip_kwarg(int steps) {
  return {"frame_skip", TaskKwarg::Type::integer, steps,
          "mj_step calls per env step (dt = timestep * frame_skip)"};
}

/// `default_camera_config`: taken for compatibility with Gymnasium's signature; it configures
/// Gymnasium's renderer, and sac's videos use their own camera.
inline TaskKwarg camera_kwarg() {
  return {"default_camera_config", TaskKwarg::Type::object, nlohmann::json::object(),
          "Gymnasium's render camera; accepted for compatibility, not used (sac's videos track "
          "the model with their own camera)"};
}

/// A number keyword.
inline TaskKwarg number_kwarg(const std::string& name, double value, const std::string& doc) {
  return {name, TaskKwarg::Type::number, value, doc};
}

/// A boolean keyword.
inline TaskKwarg flag_kwarg(const std::string& name, bool value, const std::string& doc) {
  return {name, TaskKwarg::Type::boolean, value, doc};
}

/// A [low, high] keyword; a null end is infinite.
inline TaskKwarg range_kwarg(const std::string& name, nlohmann::json low, nlohmann::json high,
                             const std::string& doc) {
  return {name, TaskKwarg::Type::number_pair, nlohmann::json::array({low, high}), doc};
}

/// `exclude_current_positions_from_observation`, leaving out the first `n` qpos (the position
/// the task rewards progress of).
inline TaskKwarg exclude_positions_kwarg(int n) {
  return flag_kwarg("exclude_current_positions_from_observation", true,
                    n == 1 ? "leave the x position (qpos[0]) out of the observation"
                           : "leave the x, y position (qpos[0:2]) out of the observation");
}

/// `reset_noise_scale`.
inline TaskKwarg reset_noise_kwarg(double scale) {
  return number_kwarg("reset_noise_scale", scale, "scale of the noise added to qpos and qvel at reset");
}

/// Throws InputError naming the task and what its model lacks when `ok` is false.
void require_model(bool ok, const std::string& task, const std::string& what);

}  // namespace sac

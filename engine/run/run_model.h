// run_model.h: a run's own copy of its model file. A task given a path as env.kwargs.xml_file
// (a custom robot) has that file read at run start and copied to RUN_DIR/model/<file name>; a
// resumed run builds its envs from that copy, and a policy file records the copy's name and
// CRC-32C so `sac eval` finds it beside the policy (RUN_DIR/model/ of the run or of the seed
// folder's run) and refuses another file. Only the XML file itself is copied: a model that
// includes other files or meshes needs them beside its copy. Tested by tests/test_env_kwargs.cpp
// (`sac_tests --gtest_filter='EnvKwargs*'`).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sac/config.h"

namespace sac {

/// The path env.kwargs.xml_file of `c` names when it is a file on disk (not a compiled-in
/// model), else "".
std::string custom_model_path(const Config& c);

/// RUN_DIR/model/<file name of the custom model> ("" without one).
std::string run_model_copy(const Config& c, const std::string& run_dir);

/// Copies the custom model (if any) of `c` to run_model_copy(c, run_dir): `text` is the file's
/// content as read at run start.
void write_run_model(const Config& c, const std::string& run_dir, const std::string& text);

/// The custom model's text, read at run start ("" without one). Throws InputError naming the
/// file when it cannot be read.
std::string read_custom_model(const Config& c);

/// env.kwargs of `c` with xml_file at `model_file` when the task uses a custom model.
nlohmann::json kwargs_with_model(const Config& c, const std::string& model_file);

/// The model file a policy of `c` saved at `policy_path` was trained on: the run's copy beside
/// the policy (its folder's model/, or its parent's for a seed folder) whose CRC-32C is
/// `crc32c`. "" when `c` uses no custom model. Throws InputError naming what is missing.
std::string policy_model_file(const Config& c, const std::string& policy_path, uint32_t crc32c);

/// CRC-32C of a model file's text (recorded in policy files).
uint32_t model_crc32c(const std::string& text);

/// The run's copy of the custom model beside a policy saved at `policy_path` (its folder's
/// model/, or its parent's), as (path, text); ("", "") when there is none.
std::pair<std::string, std::string> model_beside(const Config& c, const std::string& policy_path);

}  // namespace sac

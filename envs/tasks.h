// tasks.h: factories of the individual tasks, gathered by registry.cpp.
#pragma once
#include <memory>

#include "sac/env.h"

namespace sac {

std::unique_ptr<Env> make_pendulum();
std::unique_ptr<Env> make_inverted_pendulum();
std::unique_ptr<Env> make_half_cheetah();
std::unique_ptr<Env> make_hopper();
std::unique_ptr<Env> make_walker2d();
std::unique_ptr<Env> make_ant();
std::unique_ptr<Env> make_humanoid();
std::unique_ptr<Env> make_inverted_double_pendulum();
std::unique_ptr<Env> make_swimmer();
std::unique_ptr<Env> make_reacher();
std::unique_ptr<Env> make_pusher();

}  // namespace sac

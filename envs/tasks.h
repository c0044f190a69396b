// tasks.h: factories of the individual tasks, gathered by registry.cpp.
#pragma once
#include <memory>

#include "sac/env.h"

namespace sac {

std::unique_ptr<Env> make_pendulum();
std::unique_ptr<Env> make_inverted_pendulum();
std::unique_ptr<Env> make_half_cheetah();
std::unique_ptr<Env> make_hopper();

}  // namespace sac

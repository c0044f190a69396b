// lanes.cpp: the Backend's default lanes. Ops run in issue order, so forking and joining only
// track the current lane (the CUDA backend maps lanes to streams, see cuda_backend.cu).
#include <stdexcept>
#include <string>

#include "sac/backend.h"

namespace sac {

void Backend::check_lane(int lane) {
  if (lane < 0 || lane >= kMaxLanes)
    throw std::invalid_argument("lane " + std::to_string(lane) + " out of range [0, " +
                                std::to_string(kMaxLanes) + ")");
}

void Backend::fork(int lane) { check_lane(lane); }

void Backend::set_lane(int lane) {
  check_lane(lane);
  m_lane = lane;
}

void Backend::join(int lane) { check_lane(lane); }

}  // namespace sac

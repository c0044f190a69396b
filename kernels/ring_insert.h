// ring_insert.h: Backend::ring_insert, the step loop's append of one batch step to the replay
// ring (backend.h): the kept rows, in order, at the head, wrapping; head and size advance where
// the ring lives. The CPU twin is ring_insert_cpu; the CUDA launcher (ring_insert.cu) is one
// kernel that places the rows and one that advances head and size, both in stream order.
// Tested by tests/test_ring_insert.cpp (CPU against ReplayBuffer::insert_host, CUDA against CPU).
#pragma once
#include "sac/backend.h"

namespace sac {

/// The CPU twin: plain loops over host memory.
void ring_insert_cpu(int n, int O, int A, const float* obs, const float* action,
                     const StepTransitions& step, const RingStorage& ring);

}  // namespace sac

// ring_insert.cpp: the CPU twin of Backend::ring_insert (ring_insert.h).
#include "ring_insert.h"

#include <algorithm>
#include <stdexcept>

namespace sac {

void ring_insert_cpu(int n, int O, int A, const float* obs, const float* action,
                     const StepTransitions& step, const RingStorage& ring) {
  int64_t head = ring.d_head_size[0], size = ring.d_head_size[1];
  if (head < 0 || head >= ring.capacity)
    throw std::logic_error("ring_insert: ring head outside the ring");
  for (int i = 0; i < n; ++i) {
    if (step.keep[i] == 0.0f) continue;
    const size_t r = (size_t)head;
    std::copy_n(obs + (size_t)i * O, O, ring.obs + r * O);
    std::copy_n(action + (size_t)i * A, A, ring.action + r * A);
    ring.reward[r] = step.reward[i];
    std::copy_n(step.next_obs + (size_t)i * O, O, ring.next_obs + r * O);
    ring.terminated[r] = step.terminated[i];
    head = (head + 1) % ring.capacity;
    size = std::min(ring.capacity, size + 1);
  }
  ring.d_head_size[0] = head;
  ring.d_head_size[1] = size;
}

}  // namespace sac

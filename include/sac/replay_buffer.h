// replay_buffer.h: the ring buffer of transitions, structure of arrays in backend memory
// (device memory on CUDA), capacity fixed at start. Sampling is uniform with Philox indices
// drawn on the backend, so a seed reproduces the same minibatches.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sac/backend.h"
#include "sac/state_tensor.h"

namespace sac {

/// One minibatch (or any block of transitions) in backend memory; rows are contiguous.
struct TransitionBatch {
  float* obs = nullptr;         // n x obs_dim
  float* action = nullptr;      // n x act_dim, in [-1, 1]
  float* reward = nullptr;      // n
  float* next_obs = nullptr;    // n x obs_dim (the real final observation on episode end)
  float* terminated = nullptr;  // n, 1 where the episode terminated (no bootstrap)

  /// Floats a block of n transitions takes in one contiguous buffer.
  static size_t floats(int n, int obs_dim, int act_dim) {
    return (size_t)n * (2 * obs_dim + act_dim + 2);
  }
  /// The arrays of n transitions laid out one after another in `storage` (floats(n, ...)
  /// floats): obs, action, reward, next_obs, terminated.
  static TransitionBatch over(float* storage, int n, int obs_dim, int act_dim) {
    TransitionBatch b;
    b.obs = storage;
    b.action = b.obs + (size_t)n * obs_dim;
    b.reward = b.action + (size_t)n * act_dim;
    b.next_obs = b.reward + n;
    b.terminated = b.next_obs + (size_t)n * obs_dim;
    return b;
  }
};

/// Where a ring stands: the next insert position, the filled rows and the capacity.
struct ReplayFill {
  int64_t head = 0, size = 0, capacity = 0;
};

class ReplayBuffer {
 public:
  /// Allocates `capacity` transitions. Throws with the figure when it does not fit.
  ReplayBuffer(Backend& backend, int64_t capacity, int obs_dim, int act_dim);
  // recorded ops hold the buffer's address: it never moves
  ReplayBuffer(const ReplayBuffer&) = delete;
  ReplayBuffer& operator=(const ReplayBuffer&) = delete;

  /// A number no other ReplayBuffer of this process has, so recorded ops made for one buffer
  /// are never replayed on another that took its place at the same address.
  uint64_t id() const { return m_id; }

  /// Bytes a buffer of this shape takes.
  static uint64_t bytes_needed(int64_t capacity, int obs_dim, int act_dim);

  int64_t capacity() const { return m_capacity; }
  int64_t size() const { return m_size; }
  int64_t head() const { return m_head; }
  int obs_dim() const { return m_obs_dim; }
  int act_dim() const { return m_act_dim; }

  /// Appends n transitions from host memory at the ring head, wrapping around (blocking
  /// uploads: for checkpoints and tests; the step loop uses insert_step).
  void insert_host(int n, const float* obs, const float* action, const float* reward,
                   const float* next_obs, const float* terminated);

  /// Appends the kept rows of one batch step of n envs, all in backend memory: obs and actions
  /// (n x obs_dim, n x act_dim) and the step's block of StepTransitions (d_step, keep flags
  /// included) of which `kept` rows are kept. One Backend::ring_insert in stream order: head
  /// and size advance on the device; the host mirror (head(), size()) follows from `kept`.
  void insert_step(int n, int kept, const float* d_obs, const float* d_actions,
                   const float* d_step);

  /// Draws n uniform indices in [0, size) (Philox stream (key, stream), draw block *d_counter)
  /// and gathers those rows into `out`. Runs entirely on the backend.
  void sample(int n, uint64_t key, uint64_t stream, const int64_t* d_counter, int64_t* d_indices,
              TransitionBatch& out) const;

  /// Where the ring stands now.
  ReplayFill fill() const { return {m_head, m_size, m_capacity}; }

  /// The buffer's checkpoint tensors: the first fill.size rows of obs, action, reward, next_obs
  /// and terminated as stored (backend memory; rows [0, size) are the filled ones), and head,
  /// size and capacity in `fill` (host memory). A checkpoint writes them with fill(); a restore
  /// reads them with the fill of the file, checks it (check_fill), uploads the rows, then calls
  /// restore_fill().
  std::vector<StateTensor> state_tensors(ReplayFill& fill) const;
  /// Throws std::invalid_argument when `fill`, as saved from some buffer, is inconsistent or
  /// does not fit this one, which must be empty.
  void check_fill(const ReplayFill& fill) const;
  /// Takes the position of `fill` (check_fill first) once its rows were written into storage():
  /// the ring insert_host of those rows would leave.
  void restore_fill(const ReplayFill& fill);

  /// The storage arrays, for checkpoints and tests.
  const TransitionBatch& storage() const { return m_storage; }
  /// The ring as Backend::sample_minibatch reads it.
  RingView ring() const {
    return {m_obs.data(), m_action.data(), m_reward.data(), m_next_obs.data(),
            m_terminated.data(), device_size()};
  }
  /// Device copy of size(), the bound sampling reads.
  const int64_t* device_size() const { return m_d_head_size.data() + 1; }

 private:
  Backend& m_backend;
  uint64_t m_id;
  int64_t m_capacity;
  int m_obs_dim, m_act_dim;
  int64_t m_size = 0, m_head = 0;
  DeviceArray<float> m_obs, m_action, m_reward, m_next_obs, m_terminated;
  DeviceArray<int64_t> m_d_head_size;  // [head, size]: ring_insert's, and sampling's bound
  TransitionBatch m_storage;
};

/// The replay rings of a run, one per seed (a run of one seed has one), of equal size; Agent's
/// update takes them in seed order.
class SeedRings {
 public:
  SeedRings(Backend& backend, size_t seeds, int64_t capacity, int obs_dim, int act_dim) {
    for (size_t k = 0; k < seeds; ++k) {
      m_owned.push_back(std::make_unique<ReplayBuffer>(backend, capacity, obs_dim, act_dim));
      m_rings.push_back(m_owned.back().get());
    }
  }
  const std::vector<ReplayBuffer*>& rings() const { return m_rings; }
  std::vector<const ReplayBuffer*> const_rings() const {
    return std::vector<const ReplayBuffer*>(m_rings.begin(), m_rings.end());
  }

 private:
  std::vector<std::unique_ptr<ReplayBuffer>> m_owned;
  std::vector<ReplayBuffer*> m_rings;
};

}  // namespace sac

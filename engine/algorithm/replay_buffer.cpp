// replay_buffer.cpp: ring insert with wrap-around and backend-side sampling.
#include "sac/replay_buffer.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <stdexcept>
#include <string>

namespace sac {
namespace {

uint64_t next_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

}  // namespace

uint64_t ReplayBuffer::bytes_needed(int64_t capacity, int obs_dim, int act_dim) {
  return (uint64_t)capacity * (2ull * obs_dim + act_dim + 2) * sizeof(float);
}

ReplayBuffer::ReplayBuffer(Backend& backend, int64_t capacity, int obs_dim, int act_dim)
    : m_backend(backend), m_id(next_id()), m_capacity(capacity), m_obs_dim(obs_dim),
      m_act_dim(act_dim) {
  try {
    m_obs = DeviceArray<float>(backend, (size_t)capacity * obs_dim);
    m_action = DeviceArray<float>(backend, (size_t)capacity * act_dim);
    m_reward = DeviceArray<float>(backend, (size_t)capacity);
    m_next_obs = DeviceArray<float>(backend, (size_t)capacity * obs_dim);
    m_terminated = DeviceArray<float>(backend, (size_t)capacity);
  } catch (const std::exception& e) {
    throw std::runtime_error("replay buffer of " + std::to_string(capacity) + " transitions (" +
                             std::to_string(bytes_needed(capacity, obs_dim, act_dim) >> 20) +
                             " MiB) does not fit on the " + backend.name() + " backend: " +
                             e.what());
  }
  m_d_head_size = DeviceArray<int64_t>(backend, 2);
  m_storage = {m_obs.data(), m_action.data(), m_reward.data(), m_next_obs.data(),
               m_terminated.data()};
}

void ReplayBuffer::insert_host(int n, const float* obs, const float* action, const float* reward,
                               const float* next_obs, const float* terminated) {
  if (n > m_capacity) throw std::invalid_argument("replay insert larger than the capacity");
  int done = 0;
  while (done < n) {
    // contiguous run up to the end of the ring, then wrap
    int run = (int)std::min<int64_t>(n - done, m_capacity - m_head);
    auto put = [&](float* dst, const float* src, int width) {
      m_backend.upload(dst + (size_t)m_head * width, src + (size_t)done * width,
                       (size_t)run * width * sizeof(float));
    };
    put(m_obs.data(), obs, m_obs_dim);
    put(m_action.data(), action, m_act_dim);
    put(m_reward.data(), reward, 1);
    put(m_next_obs.data(), next_obs, m_obs_dim);
    put(m_terminated.data(), terminated, 1);
    m_head = (m_head + run) % m_capacity;
    done += run;
  }
  m_size = std::min(m_capacity, m_size + n);
  const int64_t head_size[2] = {m_head, m_size};
  m_backend.upload(m_d_head_size.data(), head_size, sizeof head_size);
}

void ReplayBuffer::insert_step(int n, int kept, const float* d_obs, const float* d_actions,
                               const float* d_step) {
  if (kept < 0 || kept > n || n > m_capacity)
    throw std::invalid_argument("replay insert of " + std::to_string(kept) + " of " +
                                std::to_string(n) + " rows into a ring of " +
                                std::to_string(m_capacity));
  RingStorage ring{m_obs.data(),      m_action.data(), m_reward.data(),
                   m_next_obs.data(), m_terminated.data(), m_capacity,
                   m_d_head_size.data()};
  m_backend.ring_insert(n, m_obs_dim, m_act_dim, d_obs, d_actions,
                        StepTransitions::over(d_step, n), ring);
  m_head = (m_head + kept) % m_capacity;
  m_size = std::min(m_capacity, m_size + kept);
}

std::vector<StateTensor> ReplayBuffer::state_tensors(ReplayFill& fill) const {
  const int64_t rows = fill.size, O = m_obs_dim, A = m_act_dim;
  return {backend_tensor("obs", m_storage.obs, {rows, O}),
          backend_tensor("action", m_storage.action, {rows, A}),
          backend_tensor("reward", m_storage.reward, {rows}),
          backend_tensor("next_obs", m_storage.next_obs, {rows, O}),
          backend_tensor("terminated", m_storage.terminated, {rows}),
          host_tensor("head", &fill.head),
          host_tensor("size", &fill.size),
          host_tensor("capacity", &fill.capacity)};
}

void ReplayBuffer::check_fill(const ReplayFill& f) const {
  if (f.size < 0 || f.size > f.capacity || f.head < 0 || (f.size > 0 && f.head >= f.capacity) ||
      (f.size < f.capacity && f.head != f.size))
    throw std::invalid_argument("replay head " + std::to_string(f.head) + ", size " +
                                std::to_string(f.size) + " and capacity " +
                                std::to_string(f.capacity) + " are inconsistent");
  if (f.size > m_capacity || (f.size == f.capacity && f.capacity != m_capacity))
    throw std::invalid_argument("replay of " + std::to_string(f.size) +
                                " transitions (capacity " + std::to_string(f.capacity) +
                                ") does not fit this run's buffer of " +
                                std::to_string(m_capacity));
  if (m_size != 0) throw std::invalid_argument("the replay buffer to restore into is not empty");
}

void ReplayBuffer::restore_fill(const ReplayFill& f) {
  check_fill(f);
  // a partly filled ring continues at its size (wrapped when the rows fill this buffer), a full
  // one at its head
  m_head = f.head % std::max<int64_t>(m_capacity, 1);
  m_size = f.size;
  const int64_t head_size[2] = {m_head, m_size};  // where ring_insert goes on
  m_backend.upload(m_d_head_size.data(), head_size, sizeof head_size);
}

void ReplayBuffer::sample(int n, uint64_t key, uint64_t stream, const int64_t* d_counter,
                          int64_t* d_indices, TransitionBatch& out) const {
  m_backend.sample_indices(n, key, stream, d_counter, device_size(), d_indices);
  m_backend.gather_rows(n, m_obs_dim, m_obs.data(), d_indices, out.obs);
  m_backend.gather_rows(n, m_act_dim, m_action.data(), d_indices, out.action);
  m_backend.gather_rows(n, 1, m_reward.data(), d_indices, out.reward);
  m_backend.gather_rows(n, m_obs_dim, m_next_obs.data(), d_indices, out.next_obs);
  m_backend.gather_rows(n, 1, m_terminated.data(), d_indices, out.terminated);
}

}  // namespace sac

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

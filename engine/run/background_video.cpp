// background_video.cpp: see background_video.h.
#include "run/background_video.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "sac/backend.h"
#include "sac/env.h"
#include "sac/errors.h"
#include "sac/philox.h"
#include "video/gl_context.h"

namespace sac {
namespace {

constexpr uint64_t kResetStream = 0;  // reset noise as `sac rollout --seed` draws it
// the video threads' nice value while training runs: on a machine whose cores are all busy
// they take about a tenth of a training thread's share, yet still get on
constexpr int kNice = 10;

struct Cancelled {};

}  // namespace

BackgroundVideo::BackgroundVideo(const AgentSpec& spec, const std::string& env_id,
                                 const nlohmann::json& kwargs,
                                 const std::vector<std::string>& video_dirs,
                                 const VideoSettings& settings)
    : m_dirs(video_dirs), m_settings(settings), m_seeds(spec.seed_list()) {
  if ((int)m_dirs.size() != spec.num_seeds())
    throw std::invalid_argument("BackgroundVideo: one videos folder per seed");
  VideoRecorder::check(*make_env(env_id, kwargs), settings);
  m_settings.threads = 1;  // the encoder leaves the cores to training
  m_worker = std::thread(&BackgroundVideo::work, this, spec, env_id, kwargs);
  std::unique_lock<std::mutex> lock(m_mutex);
  m_changed.wait(lock, [&] { return m_ready; });
  if (m_failure) {
    lock.unlock();
    m_worker.join();
    std::rethrow_exception(m_failure);
  }
}

BackgroundVideo::~BackgroundVideo() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_quit = true;
    m_queue.clear();
  }
  m_cancel = true;
  m_changed.notify_all();
  if (m_worker.joinable()) m_worker.join();
}

void BackgroundVideo::rethrow_failure() {
  if (!m_failure) return;
  std::exception_ptr e = m_failure;
  m_failure = nullptr;
  std::rethrow_exception(e);
}

void BackgroundVideo::record(int64_t step, std::vector<float> actor_params,
                             std::vector<char> stopped) {
  std::lock_guard<std::mutex> lock(m_mutex);
  rethrow_failure();
  m_queue.push_back(Job{step, std::move(actor_params), std::move(stopped)});
  m_changed.notify_all();
}

void BackgroundVideo::wait_all() {
  // training is over: the worker's normal priority back where the system allows raising it
  if (m_worker_tid > 0) setpriority(PRIO_PROCESS, (id_t)m_worker_tid, 0);
  std::unique_lock<std::mutex> lock(m_mutex);
  m_changed.wait(lock, [&] { return (m_queue.empty() && !m_busy) || m_failure; });
  rethrow_failure();
}

// the worker: the OpenGL context, the policy and the envs live on this thread
void BackgroundVideo::work(AgentSpec spec, std::string env_id, nlohmann::json kwargs) {
  std::unique_ptr<GlContext> gl;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Policy> policy;
  std::vector<std::unique_ptr<Env>> envs;
  try {
    // a low CPU priority for this thread and the rasteriser thread it starts (threads inherit
    // it), so rendering yields to training; Mesa's software rasteriser with one thread, as the
    // encoder
    m_worker_tid = (int)syscall(SYS_gettid);
    setpriority(PRIO_PROCESS, (id_t)m_worker_tid, kNice);
    setenv("LP_NUM_THREADS", "1", 0);
    gl = GlContext::create();
    Mp4Writer::check_available();
    spec.max_act_batch = 1;
    backend = make_backend("cpu", 1);
    policy = std::make_unique<Policy>(*backend, spec, false);
    for (size_t s = 0; s < m_seeds.size(); ++s) envs.push_back(make_env(env_id, kwargs));
  } catch (...) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_failure = std::current_exception();
    m_ready = true;
    m_changed.notify_all();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_ready = true;
  }
  m_changed.notify_all();
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_changed.wait(lock, [&] { return m_quit || !m_queue.empty(); });
      if (m_quit) return;
      job = std::move(m_queue.front());
      m_queue.pop_front();
      m_busy = true;
    }
    std::exception_ptr failure;
    try {
      record_job(*policy, *backend, envs, job);
    } catch (const Cancelled&) {
      return;
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_busy = false;
      if (failure && !m_failure) m_failure = failure;
    }
    m_changed.notify_all();
  }
}

// one deterministic episode per seed, the seeds stepped together (each member acts for its own
// env), each seed's video ending with its episode
void BackgroundVideo::record_job(Policy& policy, Backend& backend,
                                 std::vector<std::unique_ptr<Env>>& envs, const Job& job) {
  const int S = (int)envs.size();
  const EnvSpec& spec = envs[0]->spec();
  const int O = spec.obs_dim, A = spec.act_dim;
  backend.upload(policy.actor().params(), job.params.data(), job.params.size() * sizeof(float));
  DeviceArray<float> d_obs(backend, (size_t)S * O), d_act(backend, (size_t)S * A);
  std::vector<double> obs((size_t)S * O, 0.0), action(A);
  std::vector<float> obs_f((size_t)S * O, 0.0f), act_f((size_t)S * A);
  std::vector<std::unique_ptr<VideoRecorder>> videos(S);
  std::vector<int> t(S, 0);
  int running = 0;
  for (int s = 0; s < S; ++s) {
    if (s < (int)job.stopped.size() && job.stopped[s]) continue;
    std::error_code ec;
    std::filesystem::create_directories(m_dirs[s], ec);
    if (ec) throw std::runtime_error("cannot create '" + m_dirs[s] + "': " + ec.message());
    HostRng reset_rng(m_seeds[s], kResetStream);
    envs[s]->reset(reset_rng, &obs[(size_t)s * O]);
    videos[s] = std::make_unique<VideoRecorder>(
        m_dirs[s] + "/step-" + std::to_string(job.step) + ".mp4", *envs[s], m_settings);
    videos[s]->add_frame();
    ++running;
  }
  while (running > 0) {
    if (m_cancel) throw Cancelled{};  // the recorders' partial files are removed
    for (size_t i = 0; i < obs.size(); ++i) obs_f[i] = (float)obs[i];
    d_obs.upload(obs_f.data(), obs_f.size());
    policy.act(1, d_obs.data(), true, d_act.data());
    d_act.download(act_f.data(), act_f.size());
    for (int s = 0; s < S; ++s) {
      if (!videos[s]) continue;
      // [-1, 1] -> [low, high], as the env pool scales
      for (int j = 0; j < A; ++j) {
        const double lo = spec.action_low[j], hi = spec.action_high[j];
        const float a = act_f[(size_t)s * A + j];
        action[j] = std::isfinite(a) ? lo + 0.5 * ((double)a + 1.0) * (hi - lo) : 0.0;
      }
      StepResult r = envs[s]->step(action.data(), &obs[(size_t)s * O]);
      videos[s]->add_frame();
      if (r.terminated || r.unstable || ++t[s] >= spec.max_episode_steps) {
        videos[s]->finish();
        videos[s].reset();
        --running;
      }
    }
  }
}

}  // namespace sac

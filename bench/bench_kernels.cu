// bench_kernels.cu: per-op timings of the CUDA backend at the HalfCheetah update shapes
// (obs 17, act 6, batch 256, hidden 256x256, E = 1 and 2 members), then one whole SAC update
// issued eagerly versus replayed from its recorded CUDA graph, and each fused op of the update.
//
// Every figure comes from CUDA events on the backend's own stream: `--warmup` calls, then
// `--iters` back-to-back calls between two events, repeated `--repeats` times; the median
// repeat is reported. Ops are issued through the public Backend interface (make_backend("cuda")),
// so each figure includes the host launch cost of that op, as the engine pays it. One JSON line
// per op: name, shape, us_per_call, and gflops (GEMMs: 2 B in out per member and product) or
// gb_per_s (everything else: bytes read + written once, scalars ignored). The agent_update
// lines add us_per_update and the update's GEMM GFLOP/s (recorded_count10 does ten per call).
//
// Build: cmake -S . -B build -G Ninja && ninja -C build sac_bench_kernels
// Run:   ./build/sac_bench_kernels [--warmup 50] [--iters 1000] [--repeats 5] [--filter SUBSTR]
// On a machine without a usable CUDA device it prints one line saying so and exits 0.
#include <cuda_runtime.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/bench_update.h"
#include "cuda_backend.h"
#include "cuda_check.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/mlp.h"
#include "sac/philox.h"
#include "sac/replay_buffer.h"

namespace {

using sac::Activation;
using sac::Backend;
using sac::DeviceArray;

// HalfCheetah-v5 and the paper's network and batch sizes
constexpr int kObs = 17;
constexpr int kAct = 6;
constexpr int kBatch = 256;
constexpr int kHidden = 256;
constexpr int64_t kReplayCapacity = 100000;
constexpr uint64_t kSeed = 1;

struct Options {
  int warmup = 50;
  int iters = 1000;
  int repeats = 5;
  std::string filter;  // run only ops whose name contains this (empty: all)
  bool help = false;
};

// parses a positive int option value, throwing with the option's name when it is not one
int positive_int(const std::string& option, const std::string& value) {
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < 1 || v > 100000000)
    throw std::invalid_argument(option + " needs a positive integer, got '" + value + "'");
  return (int)v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      o.help = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument("option " + a + " needs a value");
    std::string v = argv[++i];
    if (a == "--warmup") o.warmup = positive_int(a, v);
    else if (a == "--iters") o.iters = positive_int(a, v);
    else if (a == "--repeats") o.repeats = positive_int(a, v);
    else if (a == "--filter") o.filter = v;
    else throw std::invalid_argument("unknown option '" + a + "' (see --help)");
  }
  return o;
}

// a JSON object's members, printed in order; values are already JSON text
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string quote(const std::string& s) { return "\"" + s + "\""; }
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}
std::string num(long long v) { return std::to_string(v); }

std::string object(const Fields& fields) {
  std::string s = "{";
  for (size_t i = 0; i < fields.size(); ++i)
    s += (i ? "," : "") + quote(fields[i].first) + ":" + fields[i].second;
  return s + "}";
}

// Times `op` with CUDA events on `stream`: warm-up calls, then `iters` calls between two
// events, `repeats` times; returns the median microseconds per call.
class Timer {
 public:
  Timer(cudaStream_t stream, const Options& options) : m_stream(stream), m_options(options) {
    CUDA_CHECK(cudaEventCreate(&m_start));
    CUDA_CHECK(cudaEventCreate(&m_stop));
  }
  ~Timer() {
    CUDA_CHECK_PRINT(cudaEventDestroy(m_start));
    CUDA_CHECK_PRINT(cudaEventDestroy(m_stop));
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// Median microseconds per call of `op`; `iters` overrides the option when > 0.
  double time(const std::function<void()>& op, int iters = 0) {
    if (iters <= 0) iters = m_options.iters;
    for (int i = 0; i < m_options.warmup; ++i) op();
    CUDA_CHECK(cudaStreamSynchronize(m_stream));
    std::vector<double> us(m_options.repeats);
    for (double& u : us) {
      CUDA_CHECK(cudaEventRecord(m_start, m_stream));
      for (int i = 0; i < iters; ++i) op();
      CUDA_CHECK(cudaEventRecord(m_stop, m_stream));
      CUDA_CHECK(cudaEventSynchronize(m_stop));
      float ms = 0.0f;
      CUDA_CHECK(cudaEventElapsedTime(&ms, m_start, m_stop));
      u = 1000.0 * ms / iters;
    }
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
  }

 private:
  cudaStream_t m_stream;
  const Options& m_options;
  cudaEvent_t m_start = nullptr, m_stop = nullptr;
};

// Runs and prints the ops, honouring --filter.
class Bench {
 public:
  Bench(cudaStream_t stream, const Options& options) : m_timer(stream, options), m_options(options) {}

  bool wanted(const std::string& name) const {
    return m_options.filter.empty() || name.find(m_options.filter) != std::string::npos;
  }

  /// Times a GEMM-shaped op doing `flops` per call.
  void gemm(const std::string& name, const Fields& shape, double flops,
            const std::function<void()>& op) {
    if (!wanted(name)) return;
    double us = m_timer.time(op);
    print(name, shape, us, {{"gflops", num(flops / (us * 1e3))}});
  }

  /// Times a memory-bound op moving `bytes` (read + written) per call.
  void memory(const std::string& name, const Fields& shape, double bytes,
              const std::function<void()>& op) {
    if (!wanted(name)) return;
    double us = m_timer.time(op);
    print(name, shape, us, {{"gb_per_s", num(bytes / (us * 1e3))}});
  }

  /// Times `op` doing `updates` SAC updates per call (`iters` calls per repeat); reports the
  /// time per call and per update, and the GEMM throughput of the update.
  void update(const std::string& name, const Fields& shape, int updates, int iters,
              double flops_per_update, const std::function<void()>& op) {
    if (!wanted(name)) return;
    double us = m_timer.time(op, iters);
    double us_update = us / updates;
    print(name, shape, us,
          {{"updates_per_call", num((long long)updates)},
           {"us_per_update", num(us_update)},
           {"updates_per_second", num(1e6 / us_update)},
           {"gflops", num(flops_per_update / (us_update * 1e3))}});
  }

 private:
  void print(const std::string& name, const Fields& shape, double us, const Fields& extra) {
    Fields f = {{"name", quote(name)}, {"shape", object(shape)}, {"us_per_call", num(us)}};
    f.insert(f.end(), extra.begin(), extra.end());
    std::printf("%s\n", object(f).c_str());
    std::fflush(stdout);
  }

  Timer m_timer;
  const Options& m_options;
};

// a device buffer of n floats filled with uniform numbers in [lo, hi) (HostRng stream `stream`)
DeviceArray<float> random_floats(Backend& be, size_t n, uint64_t stream, double lo, double hi) {
  sac::HostRng rng(kSeed, stream);
  std::vector<float> h(n);
  for (float& x : h) x = (float)rng.uniform(lo, hi);
  DeviceArray<float> d(be, n);
  d.upload(h.data(), n);
  return d;
}

template <typename T>
DeviceArray<T> scalar(Backend& be, T value) {
  DeviceArray<T> d(be, 1);
  d.upload(&value, 1);
  return d;
}

Fields shape_of(std::initializer_list<std::pair<const char*, long long>> dims) {
  Fields f;
  for (const auto& d : dims) f.emplace_back(d.first, num(d.second));
  return f;
}

// ---- networks: every layer of the actor and the critics, E = 1 and 2

struct Layer {
  const char* net;
  int in, out;
};
constexpr Layer kLayers[] = {{"critic", kObs + kAct, kHidden}, {"critic", kHidden, kHidden},
                             {"critic", kHidden, 1},           {"actor", kObs, kHidden},
                             {"actor", kHidden, kHidden},      {"actor", kHidden, 2 * kAct}};

void bench_linear(Bench& bench, Backend& be) {
  const int B = kBatch;
  for (int E : {1, 2})
    for (const Layer& l : kLayers) {
      const size_t nx = (size_t)E * B * l.in, nw = (size_t)E * l.out * l.in;
      const size_t ny = (size_t)E * B * l.out, nb = (size_t)E * l.out;
      float w_scale = 1.0f / std::sqrt((float)l.in);
      DeviceArray<float> X = random_floats(be, nx, 11, -1.0, 1.0);
      DeviceArray<float> W = random_floats(be, nw, 12, -w_scale, w_scale);
      DeviceArray<float> b = random_floats(be, nb, 13, -0.1, 0.1);
      DeviceArray<float> Y = random_floats(be, ny, 14, -1.0, 1.0);
      DeviceArray<float> dY = random_floats(be, ny, 15, -1.0, 1.0);
      DeviceArray<float> dX(be, nx), dW(be, nw), db(be, nb);
      Fields shape = shape_of({{"E", E}, {"B", B}, {"in", l.in}, {"out", l.out}});
      shape.emplace_back("net", quote(l.net));
      const double flops = 2.0 * E * B * l.in * l.out;  // one GEMM
      const size_t stride = (size_t)B * l.in;

      for (Activation act : {Activation::kNone, Activation::kRelu}) {
        std::string name = std::string("linear_forward.") + (act == Activation::kRelu ? "relu" : "none");
        bench.gemm(name, shape, flops, [&] {
          be.linear_forward(E, B, l.in, l.out, X.data(), stride, W.data(), b.data(), Y.data(), act,
                            nullptr);
        });
      }
      // hidden layers go back through the ReLU mask (in place on dY: idempotent), outputs not
      Activation act = l.out == kHidden ? Activation::kRelu : Activation::kNone;
      // full: dX, dW (two GEMMs) and db
      bench.gemm("linear_backward.full", shape, 2 * flops, [&] {
        be.linear_backward(E, B, l.in, l.out, X.data(), stride, W.data(), Y.data(), dY.data(),
                           dX.data(), dW.data(), db.data(), act);
      });
      // input-only: dX (one GEMM), as the actor loss runs it through the frozen critics
      bench.gemm("linear_backward.input_only", shape, flops, [&] {
        be.linear_backward(E, B, l.in, l.out, X.data(), stride, W.data(), Y.data(), dY.data(),
                           dX.data(), nullptr, nullptr, act);
      });
      // the fused ops the update runs: forward with the ReLU mask, then each backward GEMM
      // with its epilogue (one launch each where cuBLASLt supports it)
      DeviceArray<uint32_t> mask(be, Backend::relu_mask_bytes(E, B, l.out) / 4);
      DeviceArray<uint32_t> in_mask(be, Backend::relu_mask_bytes(E, B, l.in) / 4);
      if (l.out == kHidden)
        bench.gemm("linear_forward.relu_mask", shape, flops, [&] {
          be.linear_forward(E, B, l.in, l.out, X.data(), stride, W.data(), b.data(), Y.data(),
                            Activation::kRelu, mask.data());
        });
      bench.gemm("linear_grad_weights", shape, flops, [&] {
        be.linear_grad_weights(E, B, l.in, l.out, X.data(), stride, dY.data(), dW.data(),
                               db.data());
      });
      // an input that is a hidden layer's output goes back through that layer's ReLU, with
      // the mask that layer's forward wrote (a forward of that width, run once here)
      Activation x_act = l.in == kHidden ? Activation::kRelu : Activation::kNone;
      DeviceArray<float> below_w = random_floats(be, (size_t)E * l.in * l.in, 16, -0.1, 0.1);
      DeviceArray<float> below_b = random_floats(be, (size_t)E * l.in, 17, -0.1, 0.1);
      DeviceArray<float> below_out(be, nx);
      if (x_act == Activation::kRelu)
        be.linear_forward(E, B, l.in, l.in, X.data(), stride, below_w.data(), below_b.data(),
                          below_out.data(), Activation::kRelu, in_mask.data());
      bench.gemm(std::string("linear_grad_input.") + (x_act == Activation::kRelu ? "drelu" : "none"),
                 shape, flops, [&] {
                   be.linear_grad_input(E, B, l.in, l.out, dY.data(), W.data(), x_act,
                                        below_out.data(), in_mask.data(), dX.data());
                 });
    }
}

// ---- policy head, losses

void bench_head_and_losses(Bench& bench, Backend& be) {
  const int B = kBatch, A = kAct, E = 2;
  const double f = sizeof(float);
  DeviceArray<float> head = random_floats(be, (size_t)B * 2 * A, 21, -2.0, 2.0);
  DeviceArray<float> eps = random_floats(be, (size_t)B * A, 22, -2.0, 2.0);
  DeviceArray<float> grad_action = random_floats(be, (size_t)B * A, 23, -1.0, 1.0);
  DeviceArray<float> action(be, (size_t)B * A), logp(be, B), grad_head(be, (size_t)B * 2 * A);
  DeviceArray<float> log_alpha = scalar(be, -0.5f);
  Fields shape = shape_of({{"B", B}, {"A", A}});

  // reads head (2 B A) and eps; writes action and logp
  bench.memory("tanh_gaussian_sample", shape, f * (3.0 * B * A + B * A + B), [&] {
    be.tanh_gaussian_sample(1, B, A, head.data(), eps.data(), -5.0f, 2.0f, action.data(), A, 1,
                            logp.data());
  });
  // reads the raw log-stds of head, eps, action, grad_action; writes grad_head (2 B A)
  bench.memory("tanh_gaussian_backward", shape, f * (4.0 * B * A + 2.0 * B * A),
               [&] {
                 be.tanh_gaussian_backward(B, A, head.data(), eps.data(), action.data(),
                                           grad_action.data(), log_alpha.data(), 1.0f / B, -5.0f,
                                           2.0f, grad_head.data());
               });

  DeviceArray<float> q = random_floats(be, (size_t)E * B, 24, -10.0, 10.0);
  DeviceArray<float> reward = random_floats(be, B, 25, -1.0, 1.0);
  DeviceArray<float> terminated(be, B), y = random_floats(be, B, 26, -10.0, 10.0);
  DeviceArray<float> dq(be, (size_t)E * B), loss(be, 1);
  Fields eshape = shape_of({{"E", E}, {"B", B}});
  bench.memory("soft_targets", eshape, f * ((double)E * B + 3.0 * B + B), [&] {
    be.soft_targets(E, B, q.data(), logp.data(), reward.data(), terminated.data(), 0.99f,
                    log_alpha.data(), y.data());
  });
  bench.memory("critic_loss", eshape, f * ((double)E * B + B + (double)E * B), [&] {
    be.critic_loss(E, B, q.data(), y.data(), dq.data(), loss.data());
  });
  bench.memory("actor_loss", eshape, f * ((double)E * B + B + (double)E * B), [&] {
    be.actor_loss(E, B, q.data(), logp.data(), log_alpha.data(), dq.data(), loss.data());
  });
  DeviceArray<float> grad(be, 1);
  bench.memory("alpha_loss", shape_of({{"B", B}}), f * B, [&] {
    be.alpha_loss(B, logp.data(), log_alpha.data(), -(float)A, grad.data(), loss.data());
  });

  // the critic input [s, a] and the action gradient summed over the critics' input gradients
  const int O = kObs, W = kObs + kAct;
  DeviceArray<float> obs = random_floats(be, (size_t)B * O, 27, -1.0, 1.0);
  DeviceArray<float> critic_in(be, (size_t)B * W);
  DeviceArray<float> dX = random_floats(be, (size_t)E * B * W, 28, -1.0, 1.0);
  bench.memory("concat_columns", shape_of({{"rows", B}, {"na", O}, {"nb", A}}),
               f * 2.0 * B * W, [&] {
                 be.concat_columns(B, O, obs.data(), A, action.data(), critic_in.data());
               });
  // reads A of the W columns of each member's rows, writes B x A
  bench.memory("sum_member_columns", shape_of({{"E", E}, {"B", B}, {"width", W}, {"A", A}}),
               f * ((double)E * B * A + (double)B * A), [&] {
                 be.sum_member_columns(E, B, W, O, A, dX.data(), grad_action.data());
               });

  // the fused ops of the update
  bench.memory("critic_loss_soft_targets", eshape,
               f * (2.0 * E * B + 4.0 * B + (double)E * B), [&] {
                 be.critic_loss_soft_targets(1, E, B, q.data(), logp.data(), reward.data(),
                                             terminated.data(), 0.99f, log_alpha.data(), q.data(),
                                             y.data(), dq.data(), loss.data());
               });
  DeviceArray<float> alpha_grad(be, 1), alpha_loss(be, 1);
  bench.memory("actor_alpha_loss", eshape, f * ((double)E * B + B + (double)E * B), [&] {
    be.actor_alpha_loss(1, E, B, q.data(), logp.data(), log_alpha.data(), -(float)A, dq.data(),
                        loss.data(), alpha_grad.data(), alpha_loss.data());
  });
  // the sample into the action columns of [s, a~], and the backward reading the critics' dX
  bench.memory("tanh_gaussian_sample.into_critic_input", shape,
               f * (3.0 * B * A + B * A + B), [&] {
                 be.tanh_gaussian_sample(1, B, A, head.data(), eps.data(), -5.0f, 2.0f,
                                         critic_in.data() + O, W, 1, logp.data());
               });
  bench.memory("tanh_gaussian_backward_critics", shape_of({{"E", E}, {"B", B}, {"A", A}}),
               f * ((double)E * B * A + 3.0 * B * A + 2.0 * B * A), [&] {
                 be.tanh_gaussian_backward_critics(1, B, A, head.data(), eps.data(),
                                                   critic_in.data() + O, W, 0, E, W, O, dX.data(),
                                                   log_alpha.data(), 1.0f / B, -5.0f, 2.0f,
                                                   grad_head.data());
               });
}

// ---- optimiser, targets: one flat buffer the size of the critic group (E = 2)

void bench_optimiser(Bench& bench, Backend& be) {
  sac::MlpGroup critic(be, {kObs + kAct, {kHidden, kHidden}, 1}, 2, true);
  const size_t n = critic.num_params();
  sac::HostRng rng(kSeed, 31);
  critic.init_uniform(rng);
  DeviceArray<float> grads = random_floats(be, n, 32, -1e-2, 1e-2);
  be.copy(critic.grads(), grads.data(), n * sizeof(float));
  DeviceArray<float> target = random_floats(be, n, 33, -0.1, 0.1);
  DeviceArray<int64_t> step = scalar<int64_t>(be, 1);
  Fields shape = shape_of({{"n", (long long)n}});
  const double f = sizeof(float);

  bench.memory("adam", shape, f * 7.0 * n, [&] {  // reads p, g, m, v; writes p, m, v
    be.adam(n, critic.params(), critic.grads(), critic.adam_m(), critic.adam_v(), 3e-4f, 0.9f,
            0.999f, 1e-8f, step.data());
  });
  bench.memory("polyak", shape, f * 3.0 * n, [&] {  // reads target, online; writes target
    be.polyak(n, target.data(), critic.params(), 0.005f);
  });
  // the critics' step: Adam, then the targets follow (reads p, g, m, v, target; writes p, m, v,
  // target)
  bench.memory("adam_polyak", shape, f * 9.0 * n, [&] {
    be.adam_polyak(n, critic.params(), critic.grads(), critic.adam_m(), critic.adam_v(), 3e-4f,
                   0.9f, 0.999f, 1e-8f, step.data(), target.data(), 0.005f);
  });
  // two tensors in one launch (the actor's step with the temperature's)
  sac::AdamTensor two[2] = {
      {n - 1, critic.params(), critic.grads(), critic.adam_m(), critic.adam_v(), 3e-4f},
      {1, critic.params() + n - 1, critic.grads() + n - 1, critic.adam_m() + n - 1,
       critic.adam_v() + n - 1, 3e-4f}};
  bench.memory("adam_multi", shape, f * 7.0 * n,
               [&] { be.adam_multi(2, two, 0.9f, 0.999f, 1e-8f, step.data()); });
}

// ---- the ops of SAC's follow-ups (REDQ, TQC, CrossQ), at their papers' critic counts

void bench_follow_up_ops(Bench& bench, Backend& be) {
  const int B = kBatch;
  // REDQ: the minimum over 2 of 10 critics, one subset per update (reads 2 of the 10 rows)
  const int N = 10, M = 2;
  DeviceArray<float> q(be, (size_t)N * B), q_min(be, B);
  DeviceArray<int32_t> chosen(be, M);
  DeviceArray<int64_t> counter = scalar<int64_t>(be, 0);
  const uint64_t key = kSeed;
  bench.memory("subset_min", shape_of({{"E", 1}, {"N", N}, {"M", M}, {"B", B}}),
               sizeof(float) * (double)(M + 1) * B, [&] {
                 be.subset_min(1, N, M, B, false, q.data(), &key, 5, counter.data(),
                               q_min.data(), chosen.data());
               });

  // CrossQ: batch renormalisation of the critic's 2048-wide hidden layer over the joined batch
  // [(s, a); (s', a')] of 2 x B rows, one member; forward in training, then its backward
  const int rows = 2 * B, width = 2048;
  const size_t elements = (size_t)rows * width;
  DeviceArray<float> x = random_floats(be, elements, 31, -2.0, 2.0), y(be, elements),
                     dy = random_floats(be, elements, 32, -1.0, 1.0), dx(be, elements),
                     scale = random_floats(be, width, 33, 0.5, 1.5), bias(be, width),
                     running_mean = random_floats(be, width, 34, -0.5, 0.5),
                     running_var = random_floats(be, width, 35, 0.5, 1.5),
                     stats(be, (size_t)width * 4), dscale(be, width), dbias(be, width);
  const sac::BatchRenormConfig renorm{};
  const Fields renorm_shape = shape_of({{"E", 1}, {"B", rows}, {"F", width}});
  bench.memory("batch_renorm_forward", renorm_shape, sizeof(float) * 3.0 * (double)elements, [&] {
    be.batch_renorm_forward(1, rows, width, true, renorm, counter.data(), x.data(), scale.data(),
                            bias.data(), running_mean.data(), running_var.data(), stats.data(),
                            y.data());
  });
  bench.memory("batch_renorm_backward", renorm_shape, sizeof(float) * 5.0 * (double)elements,
               [&] {
                 be.batch_renorm_backward(1, rows, width, true, renorm.eps, x.data(),
                                          scale.data(), stats.data(), dy.data(), dx.data(),
                                          dscale.data(), dbias.data());
               });

  // TQC: 5 critics x 25 quantiles against the 115 atoms kept of the 125 pooled (the top 2 per
  // critic dropped): the quantile Huber loss and its gradient
  const int critics = 5, quantiles = 25, atoms = critics * quantiles, kept = atoms - 2 * critics;
  DeviceArray<float> current = random_floats(be, (size_t)B * atoms, 36, -10.0, 10.0),
                     target = random_floats(be, (size_t)B * kept, 37, -10.0, 10.0),
                     dcurrent(be, (size_t)B * atoms), row_loss(be, B), member_loss(be, 1);
  bench.memory("quantile_huber_loss",
               shape_of({{"E", 1}, {"B", B}, {"N", critics}, {"M", quantiles}, {"K", kept}}),
               sizeof(float) * (double)B * (2.0 * atoms + kept + 1), [&] {
                 be.quantile_huber_loss(1, B, critics, quantiles, kept, 1.0f, current.data(),
                                        target.data(), dcurrent.data(), row_loss.data(),
                                        member_loss.data());
               });
  // and the per-row sort of the pooled atoms that makes that target
  bench.memory("sort_truncate_atoms", shape_of({{"rows", B}, {"atoms", atoms}, {"keep", kept}}),
               sizeof(float) * (double)B * (atoms + kept),
               [&] { be.sort_truncate_atoms(B, atoms, kept, current.data(), target.data()); });
}

// ---- random numbers, replay sampling

void bench_random_and_replay(Bench& bench, Backend& be, const sac::ReplayBuffer& replay) {
  const int B = kBatch;
  const size_t noise = (size_t)B * kAct;
  DeviceArray<int64_t> counter = scalar<int64_t>(be, 0);
  DeviceArray<int64_t> bound = scalar<int64_t>(be, kReplayCapacity);
  DeviceArray<float> eps(be, noise);
  DeviceArray<int64_t> idx(be, B);
  DeviceArray<float> rows(be, (size_t)B * kObs);

  bench.memory("fill_normal", shape_of({{"n", (long long)noise}}), sizeof(float) * (double)noise,
               [&] { be.fill_normal(noise, kSeed, 2, counter.data(), eps.data()); });
  bench.memory("sample_indices", shape_of({{"n", B}, {"bound", kReplayCapacity}}),
               sizeof(int64_t) * (double)B,
               [&] { be.sample_indices(B, kSeed, 1, counter.data(), bound.data(), idx.data()); });
  be.sample_indices(B, kSeed, 1, counter.data(), bound.data(), idx.data());
  // reads the indices and the rows, writes the rows
  bench.memory("gather_rows", shape_of({{"n", B}, {"dim", kObs}}),
               sizeof(int64_t) * (double)B + 2.0 * sizeof(float) * B * kObs, [&] {
                 be.gather_rows(B, kObs, replay.storage().obs, idx.data(), rows.data());
               });

  // a whole minibatch: indices, then obs, action, reward, next_obs, terminated
  DeviceArray<float> storage(be, sac::TransitionBatch::floats(B, kObs, kAct));
  sac::TransitionBatch batch = sac::TransitionBatch::over(storage.data(), B, kObs, kAct);
  const double row = 2.0 * kObs + kAct + 2;
  bench.memory("replay_sample", shape_of({{"n", B}, {"row_floats", (long long)row}}),
               sizeof(int64_t) * (1.0 + 5.0) * B + 2.0 * sizeof(float) * B * row,
               [&] { replay.sample(B, kSeed, 1, counter.data(), idx.data(), batch); });

  // the update's one sampling launch: indices, rows into five layouts, both noise blocks
  const int O = kObs, A = kAct, W = kObs + kAct;
  DeviceArray<float> layouts(be, (size_t)B * (2 * O + 3 * W + 2 + 2 * A));
  float* p = layouts.data();
  sac::MinibatchLayout out;
  out.indices = idx.data();
  out.obs = p, p += (size_t)B * O;
  out.next_obs = p, p += (size_t)B * O;
  out.critic_in = p, p += (size_t)B * W;
  out.critic_in_pi = p, p += (size_t)B * W;
  out.target_in = p, p += (size_t)B * W;
  out.reward = p, p += B;
  out.terminated = p, p += B;
  out.eps_next = p, p += (size_t)B * A;
  out.eps_cur = p;
  sac::MinibatchDraws draws{kSeed, 1, 2, 3, counter.data()};
  bench.memory("sample_minibatch", shape_of({{"n", B}, {"row_floats", (long long)row}}),
               sizeof(int64_t) * (double)B +
                   sizeof(float) * (double)B * (row + 2.0 * O + 3.0 * W + 2.0 + 2.0 * A),
               [&] {
                 sac::RingView ring = replay.ring();
                 be.sample_minibatch(1, B, O, A, 1, &ring, &draws, out);
               });
}

// ---- one whole SAC update: eager versus recorded

void bench_agent_update(Bench& bench, Backend& be, const sac::ReplayBuffer& replay,
                        const Options& options) {
  sac::AgentSpec spec;
  spec.obs_dim = kObs;
  spec.act_dim = kAct;
  spec.hidden = {kHidden, kHidden};
  spec.num_critics = 2;
  spec.batch_size = kBatch;
  spec.target_entropy = -(float)kAct;
  spec.seed = kSeed;
  sac::Agent agent(be, spec);
  const int B = kBatch;
  const double flops = sac::update_gemm_flops(kObs, kAct, spec.hidden, B, spec.num_critics);
  Fields shape = shape_of({{"obs", kObs}, {"act", kAct}, {"B", B}, {"hidden", kHidden},
                           {"critics", spec.num_critics}});

  // a fixed minibatch and fixed noise for update_on
  DeviceArray<int64_t> counter = scalar<int64_t>(be, 0), idx(be, B);
  DeviceArray<float> storage(be, sac::TransitionBatch::floats(B, kObs, kAct));
  sac::TransitionBatch batch = sac::TransitionBatch::over(storage.data(), B, kObs, kAct);
  replay.sample(B, kSeed, 1, counter.data(), idx.data(), batch);
  const size_t noise = (size_t)B * kAct;
  DeviceArray<float> eps_next(be, noise), eps_cur(be, noise);
  be.fill_normal(noise, kSeed, 2, counter.data(), eps_next.data());
  be.fill_normal(noise, kSeed, 3, counter.data(), eps_cur.data());

  // eager: the update's ops issued one by one (no sampling or noise: see the next figure)
  bench.update("agent_update.eager_update_on", shape, 1, options.iters, flops,
               [&] { agent.update_on(batch, eps_next.data(), eps_cur.data()); });
  // eager with what Agent::update adds each step: replay sample and two noise fills
  bench.update("agent_update.eager_sampled", shape, 1, options.iters, flops, [&] {
    replay.sample(B, kSeed, 1, agent.update_counter(), idx.data(), batch);
    be.fill_normal(noise, kSeed, 2, agent.update_counter(), eps_next.data());
    be.fill_normal(noise, kSeed, 3, agent.update_counter(), eps_cur.data());
    agent.update_on(batch, eps_next.data(), eps_cur.data());
  });
  // recorded: one graph launch per call (recorded once, during warm-up)
  bench.update("agent_update.recorded_count1", shape, 1, options.iters, flops,
               [&] { agent.update(replay, 1); });
  const int iters10 = std::max(1, options.iters / 10);  // the same number of updates
  bench.update("agent_update.recorded_count10", shape, 10, iters10, flops,
               [&] { agent.update(replay, 10); });
}

int run(const Options& options) {
  const std::string why = sac::cuda_unavailable_reason();
  if (!why.empty()) {
    nlohmann::json skipped = {{"bench", "sac_bench_kernels"}, {"skipped", "no usable CUDA device: " + why}};
    std::printf("%s\n", skipped.dump().c_str());
    // a campaign on a GPU machine must not pass by skipping
    const char* required = std::getenv("SAC_REQUIRE_GPU");
    return required && *required && std::strcmp(required, "0") != 0 ? 1 : 0;
  }
  std::unique_ptr<Backend> backend = sac::make_backend("cuda");
  Backend& be = *backend;
  auto stream = static_cast<cudaStream_t>(sac::cuda_backend_stream(be));

  int device = 0;
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  std::printf("%s\n", object({{"bench", quote("sac_bench_kernels")},
                              {"device", quote(prop.name)},
                              {"compute_capability",
                               quote(std::to_string(prop.major) + "." + std::to_string(prop.minor))},
                              {"warmup", num((long long)options.warmup)},
                              {"iters", num((long long)options.iters)},
                              {"repeats", num((long long)options.repeats)},
                              {"statistic", quote("median of repeats")}})
                          .c_str());

  // a replay buffer filled with random transitions (the costs do not depend on the values)
  sac::ReplayBuffer replay(be, kReplayCapacity, kObs, kAct);
  sac::fill_replay_random(replay, kSeed, 10000);

  Bench bench(stream, options);
  bench_linear(bench, be);
  bench_head_and_losses(bench, be);
  bench_optimiser(bench, be);
  bench_random_and_replay(bench, be, replay);
  bench_follow_up_ops(bench, be);
  bench_agent_update(bench, be, replay, options);
  be.synchronize();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // setup and CUDA errors throw; report them once here
  try {
    Options options = parse_options(argc, argv);
    if (options.help) {
      std::printf(
          "usage: sac_bench_kernels [--warmup N] [--iters N] [--repeats N] [--filter SUBSTR]\n");
      return 0;
    }
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sac_bench_kernels: %s\n", e.what());
    return 1;
  }
}

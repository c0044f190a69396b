// test_gemm_conformance.cpp: what only silicon can answer about the CUDA backend's GEMMs, for
// the GPU campaign's conformance part (bench/gpu_campaign.sh runs GemmConformance.* and turns
// the JSON lines these tests print into the report's pass/fail lines):
//   - LtPlans: every task's update at batches 1, 7, 50 and 256 (eager, then recorded): which
//     GEMMs cuBLASLt ran (per epilogue) and which fell back (per reason), one line per task and
//     batch; and the three GEMM forms with every operand offset by 4 bytes from a 256-byte
//     boundary, against the CPU (cuBLASLt must take them, or decline them: never fail);
//   - EpiloguesMatchTheFallback: each epilogue (BIAS, RELU_BIAS, RELU_AUX_BIAS, DRELU, BGRADB)
//     against the cuBLAS fallback (a second backend with SAC_CUBLASLT=0) on the same inputs,
//     then with a NaN in the input: the non-ReLU forms must keep it as the fallback does; what
//     the ReLU epilogues make of it is printed (cuBLASLt's may give 0, the fallback keeps NaN:
//     so the divergence guard reads weights, not activations);
//   - CaptureOfOneUpdateFollowsTheRules: one update (sample, noise, update) captured: the graph
//     holds no allocation, free or host node (the capture itself fails on a sync or an unjoined
//     lane), and replays to the eager bits.
// The assertions hold on any correct backend (also under the CUDA simulator, where cuBLASLt
// declines everything); "HalfCheetah uses cuBLASLt only" is the campaign's verdict on the
// printed counts and on `sac bench update`'s gemm_paths. Skips without a GPU.
// Run: sac_tests --gtest_filter='GemmConformance*'
#ifdef SAC_HAVE_CUDA

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "agent_state.h"
#include "cpu_backend.h"
#include "cuda_backend.h"
#include "gemm_plan.h"
#include "gpu_test.h"
#include "sac/agent.h"
#include "sac/backend.h"
#include "sac/env.h"
#include "sac/replay_buffer.h"
#include "test_util.h"

namespace sac {
namespace {

using test::expect_close;
using test::random_uniform;

constexpr double kGemmTol = 1e-4;

// one JSON line for the campaign report
void line(const std::string& json) {
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

class GemmConformance : public testing::Test {
 protected:
  void SetUp() override {
    SAC_SKIP_WITHOUT_GPU();
    m_gpu = make_backend("cuda");
  }
  // n floats at `offset` floats into a fresh buffer of `be`, holding v
  struct Slice {
    DeviceArray<float> buffer;
    float* at;
  };
  Slice slice(Backend& be, const std::vector<float>& v, size_t offset) {
    Slice s{DeviceArray<float>(be, v.size() + offset + 1), nullptr};
    std::vector<float> h(v.size() + offset + 1, 0.0f);
    std::copy(v.begin(), v.end(), h.begin() + offset);
    s.buffer.upload(h.data(), h.size());
    s.at = s.buffer.data() + offset;
    return s;
  }
  std::vector<float> read(Backend& be, const float* p, size_t n) {
    std::vector<float> h(n);
    be.download(h.data(), p, n * sizeof(float));
    return h;
  }

  std::unique_ptr<Backend> m_gpu;
  CpuBackend m_cpu{1};
};

TEST_F(GemmConformance, LtPlans) {
  // every task's update: the path of each GEMM it issues, eager and recorded
  for (const std::string& id : env_ids()) {
    std::unique_ptr<Env> env = make_env(id);
    for (int batch : {1, 7, 50, 256}) {
      SCOPED_TRACE(id + " batch " + std::to_string(batch));
      AgentSpec spec = test::half_cheetah_spec(1);
      spec.obs_dim = env->spec().obs_dim;
      spec.act_dim = env->spec().act_dim;
      spec.target_entropy = -(float)spec.act_dim;
      spec.batch_size = batch;
      auto replay = test::filled_replay(*m_gpu, spec, 300, 5);
      Agent agent(*m_gpu, spec);
      reset_cuda_gemm_path_counts();
      ASSERT_NO_THROW(agent.update(*replay, 2));
      const GemmPathCounts c = cuda_gemm_path_counts();
      const test::AgentState state = test::read_state(agent);
      for (float l : state.losses) EXPECT_TRUE(std::isfinite(l)) << "loss " << l;
      EXPECT_GT(c.lt_total() + c.fallback_total(), 0);
      line("{\"conformance\":\"lt_plan\",\"task\":\"" + id +
           "\",\"batch\":" + std::to_string(batch) + ",\"gemm_paths\":" + c.json() + "}");
    }
  }
  // the three GEMM forms with every operand 4 bytes past a 256-byte boundary, against the CPU
  const int E = 2, B = 50, in = 23, out = 256;
  const std::vector<float> x = random_uniform((size_t)E * B * in, 1, -1, 1),
                           w = random_uniform((size_t)E * out * in, 2, -0.3, 0.3),
                           b = random_uniform((size_t)E * out, 3, -0.5, 0.5),
                           dz = random_uniform((size_t)E * B * out, 4, -1, 1);
  for (size_t offset : {0, 1, 2, 3}) {
    SCOPED_TRACE("operands offset by " + std::to_string(4 * offset) + " bytes");
    reset_cuda_gemm_path_counts();
    Slice X = slice(*m_gpu, x, offset), W = slice(*m_gpu, w, offset), bb = slice(*m_gpu, b, 0),
          Y = slice(*m_gpu, std::vector<float>((size_t)E * B * out), offset),
          dZ = slice(*m_gpu, dz, offset), dW = slice(*m_gpu, std::vector<float>(w.size()), offset),
          db = slice(*m_gpu, std::vector<float>(b.size()), 0),
          dX = slice(*m_gpu, std::vector<float>(x.size()), offset);
    Slice rX = slice(m_cpu, x, 0), rW = slice(m_cpu, w, 0), rb = slice(m_cpu, b, 0),
          rY = slice(m_cpu, std::vector<float>((size_t)E * B * out), 0), rdZ = slice(m_cpu, dz, 0),
          rdW = slice(m_cpu, std::vector<float>(w.size()), 0),
          rdb = slice(m_cpu, std::vector<float>(b.size()), 0),
          rdX = slice(m_cpu, std::vector<float>(x.size()), 0);
    ASSERT_NO_THROW(m_gpu->linear_forward(E, B, in, out, X.at, (size_t)B * in, W.at, bb.at, Y.at,
                                          Activation::kNone, nullptr));
    ASSERT_NO_THROW(
        m_gpu->linear_grad_weights(E, B, in, out, X.at, (size_t)B * in, dZ.at, dW.at, db.at));
    ASSERT_NO_THROW(m_gpu->linear_grad_input(E, B, in, out, dZ.at, W.at, Activation::kNone, nullptr,
                                             nullptr, dX.at));
    m_cpu.linear_forward(E, B, in, out, rX.at, (size_t)B * in, rW.at, rb.at, rY.at,
                         Activation::kNone, nullptr);
    m_cpu.linear_backward(E, B, in, out, rX.at, (size_t)B * in, rW.at, nullptr, rdZ.at, rdX.at,
                          rdW.at, rdb.at, Activation::kNone);
    expect_close(read(m_cpu, rY.at, (size_t)E * B * out), read(*m_gpu, Y.at, (size_t)E * B * out),
                 kGemmTol, kGemmTol, "Y");
    expect_close(read(m_cpu, rdW.at, w.size()), read(*m_gpu, dW.at, w.size()), kGemmTol, kGemmTol,
                 "dW");
    expect_close(read(m_cpu, rdb.at, b.size()), read(*m_gpu, db.at, b.size()), kGemmTol, kGemmTol,
                 "db");
    expect_close(read(m_cpu, rdX.at, x.size()), read(*m_gpu, dX.at, x.size()), kGemmTol, kGemmTol,
                 "dX");
    line("{\"conformance\":\"lt_plan_offset\",\"offset_bytes\":" + std::to_string(4 * offset) +
         ",\"gemm_paths\":" + cuda_gemm_path_counts().json() + "}");
  }
}

TEST_F(GemmConformance, EpiloguesMatchTheFallback) {
  // the fallback: a backend whose cuBLASLt is off
  const char* was = std::getenv("SAC_CUBLASLT");
  const std::string saved = was ? was : "";
  setenv("SAC_CUBLASLT", "0", 1);
  std::unique_ptr<Backend> fb = make_backend("cuda");
  if (was)
    setenv("SAC_CUBLASLT", saved.c_str(), 1);
  else
    unsetenv("SAC_CUBLASLT");

  const int E = 2, B = 64, in = 256, out = 256;
  for (bool with_nan : {false, true}) {
    SCOPED_TRACE(with_nan ? "a NaN in X" : "finite inputs");
    std::vector<float> x = random_uniform((size_t)E * B * in, 11, -1, 1);
    for (float& v : x) v = v < 0 ? 0.0f : v;  // a ReLU layer's output
    if (with_nan) x[5] = NAN;                 // member 0, row 0: its outputs all become NaN
    const std::vector<float> w = random_uniform((size_t)E * out * in, 12, -0.1, 0.1),
                             b = random_uniform((size_t)E * out, 13, -0.5, 0.5),
                             dz = random_uniform((size_t)E * B * out, 14, -1, 1);
    struct Run {
      std::string epilogue;
      std::vector<float> lt, fallback;
    };
    std::vector<Run> runs;
    // each backend runs the same forms; `lt` reads its paths from the counts
    std::string paths;
    for (Backend* be : {m_gpu.get(), fb.get()}) {
      const bool is_lt = be == m_gpu.get();
      Slice X = slice(*be, x, 0), W = slice(*be, w, 0), bb = slice(*be, b, 0),
            dZ = slice(*be, dz, 0);
      Slice Y = slice(*be, std::vector<float>((size_t)E * B * out), 0);
      DeviceArray<uint32_t> mask(*be, Backend::relu_mask_bytes(E, B, out) / 4);
      reset_cuda_gemm_path_counts();
      size_t k = 0;
      auto keep = [&](const std::string& name, const float* p, size_t n) {
        if (is_lt)
          runs.push_back({name, read(*be, p, n), {}});
        else
          runs[k++].fallback = read(*be, p, n);
      };
      be->linear_forward(E, B, in, out, X.at, (size_t)B * in, W.at, bb.at, Y.at, Activation::kNone,
                         nullptr);
      keep("bias", Y.at, (size_t)E * B * out);
      be->linear_forward(E, B, in, out, X.at, (size_t)B * in, W.at, bb.at, Y.at, Activation::kRelu,
                         nullptr);
      keep("relu_bias", Y.at, (size_t)E * B * out);
      be->linear_forward(E, B, in, out, X.at, (size_t)B * in, W.at, bb.at, Y.at, Activation::kRelu,
                         mask.data());
      keep("relu_aux_bias", Y.at, (size_t)E * B * out);
      // dX of a layer above this one (in = out here), through this layer's ReLU
      Slice dX = slice(*be, std::vector<float>((size_t)E * B * out), 0);
      be->linear_grad_input(E, B, out, out, dZ.at, W.at, Activation::kRelu, Y.at, mask.data(),
                            dX.at);
      keep("drelu", dX.at, (size_t)E * B * out);
      Slice dW = slice(*be, std::vector<float>(w.size()), 0),
            db = slice(*be, std::vector<float>(b.size()), 0);
      be->linear_grad_weights(E, B, in, out, X.at, (size_t)B * in, dZ.at, dW.at, db.at);
      keep("bgradb.dW", dW.at, w.size());
      keep("bgradb.db", db.at, b.size());
      if (is_lt) paths = cuda_gemm_path_counts().json();
    }
    // entries left out of the comparison: of the ReLU forms with a NaN input, the row it
    // feeds (member 0, row 0: what a ReLU epilogue makes of NaN is reported, not asserted); of
    // DRELU, where the two forwards' outputs straddle 0 (each backend masks by its own
    // forward's rounding)
    const Run& fwd = runs[2];  // relu_aux_bias: the output whose mask DRELU reads
    std::string nan_json;
    for (const Run& r : runs) {
      SCOPED_TRACE(r.epilogue);
      const bool relu = r.epilogue.compare(0, 4, "relu") == 0 || r.epilogue == "drelu";
      size_t nan_lt = 0, nan_fb = 0, nan_placement = 0;
      std::vector<float> ref, got;
      for (size_t i = 0; i < r.lt.size(); ++i) {
        const bool a = std::isnan(r.lt[i]), f = std::isnan(r.fallback[i]);
        nan_lt += a;
        nan_fb += f;
        nan_placement += a != f;
        if (relu && with_nan && i < (size_t)out) continue;
        if (r.epilogue == "drelu" && (fwd.lt[i] > 0) != (fwd.fallback[i] > 0)) continue;
        ref.push_back(r.fallback[i]);
        got.push_back(r.lt[i]);
      }
      // the same values (NaN where the fallback has NaN) everywhere compared
      expect_close(ref, got, kGemmTol, kGemmTol, r.epilogue + " vs the fallback");
      if (!with_nan) {
        EXPECT_EQ(nan_lt + nan_fb, 0u);
      } else {
        // IEEE: a NaN input reaches the outputs it feeds on the fallback (not dX of the layer
        // above, nor the bias gradient: neither reads X)
        if (r.epilogue != "drelu" && r.epilogue != "bgradb.db")
          EXPECT_GT(nan_fb, 0u) << "the fallback lost the NaN";
        // without a ReLU in the epilogue, cuBLASLt keeps it exactly where the fallback does
        if (!relu) EXPECT_EQ(nan_placement, 0u) << "NaN placement differs";
      }
      nan_json += std::string(nan_json.empty() ? "" : ",") + "\"" + r.epilogue +
                  "\":{\"nan_cublaslt\":" + std::to_string(nan_lt) +
                  ",\"nan_fallback\":" + std::to_string(nan_fb) + "}";
    }
    line(std::string("{\"conformance\":\"epilogue_vs_fallback\",\"nan_input\":") +
         (with_nan ? "true" : "false") + ",\"gemm_paths\":" + paths + ",\"outputs\":{" + nan_json +
         "}}");
  }
}

TEST_F(GemmConformance, CaptureOfOneUpdateFollowsTheRules) {
  const AgentSpec spec = test::half_cheetah_spec(13);
  const int B = spec.batch_size, O = spec.obs_dim, A = spec.act_dim;
  auto replay = test::filled_replay(*m_gpu, spec, 3000, 200);
  Agent eager(*m_gpu, spec), recorded(*m_gpu, spec);
  // each agent's own minibatch and noise buffers
  struct Inputs {
    Inputs(Backend& be, int B, int O, int A)
        : idx(be, B),
          storage(be, TransitionBatch::floats(B, O, A)),
          eps_next(be, (size_t)B * A),
          eps_cur(be, (size_t)B * A),
          batch(TransitionBatch::over(storage.data(), B, O, A)) {}
    DeviceArray<int64_t> idx;
    DeviceArray<float> storage, eps_next, eps_cur;
    TransitionBatch batch;
  };
  Inputs in_eager(*m_gpu, B, O, A), in_recorded(*m_gpu, B, O, A);
  auto step = [&](Agent& agent) {
    Inputs& in = &agent == &eager ? in_eager : in_recorded;
    const uint64_t key = agent.spec().seed;
    replay->sample(B, key, 21, agent.update_counter(), in.idx.data(), in.batch);
    m_gpu->fill_normal((size_t)B * A, key, 22, agent.update_counter(), in.eps_next.data());
    m_gpu->fill_normal((size_t)B * A, key, 23, agent.update_counter(), in.eps_cur.data());
    agent.update_on(in.batch, in.eps_next.data(), in.eps_cur.data());
  };
  step(recorded);  // module loading and library set-up happen eagerly, before any capture
  step(eager);
  std::unique_ptr<RecordedOps> graph;
  ASSERT_NO_THROW(graph = m_gpu->record([&] { step(recorded); }))
      << "the capture broke a rule (a sync, an allocation or an unjoined lane fails it)";
  const GraphCensus c = cuda_graph_census(*graph);
  EXPECT_EQ(c.allocs, 0u) << "allocation inside the update";
  EXPECT_EQ(c.frees, 0u) << "free inside the update";
  EXPECT_EQ(c.host, 0u) << "host work inside the update";
  EXPECT_EQ(c.other, 0u) << "a node of an unexpected kind";
  EXPECT_GT(c.kernels, 0u);
  for (int i = 0; i < 3; ++i) {
    graph->replay();
    step(eager);
  }
  test::expect_identical_states(test::read_state(eager), test::read_state(recorded),
                                "recorded update vs eager");
  line("{\"conformance\":\"capture\",\"nodes\":" + std::to_string(c.nodes) +
       ",\"kernels\":" + std::to_string(c.kernels) + ",\"memcpys\":" + std::to_string(c.memcpys) +
       ",\"memsets\":" + std::to_string(c.memsets) + ",\"events\":" + std::to_string(c.events) +
       ",\"empties\":" + std::to_string(c.empties) + ",\"allocs\":" + std::to_string(c.allocs) +
       ",\"frees\":" + std::to_string(c.frees) + ",\"host\":" + std::to_string(c.host) + "}");
}

}  // namespace
}  // namespace sac

#endif  // SAC_HAVE_CUDA

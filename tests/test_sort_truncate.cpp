// test_sort_truncate.cpp: Backend::sort_truncate_atoms, TQC's pooled target atoms sorted and
// truncated (kernels/sort_truncate.*). On the CPU against std::sort: each row's lowest `keep`
// atoms in ascending order for TQC's shapes, for atom counts below, at and above a power of two,
// with repeated values, and keep = atoms a full sort; -0 sorts before +0 and infinities at the
// ends; bad shapes are refused naming the op. On CUDA (skipped without a GPU; run on the CUDA
// simulator as sim:*): the same bits as the CPU.
// Run: sac_tests --gtest_filter='*SortTruncate*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu_test.h"
#include "sac/backend.h"

namespace sac {
namespace {

std::vector<float> pooled_atoms(int rows, int atoms, int distinct) {
  std::vector<float> v((size_t)rows * atoms);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = std::round(std::sin(2.3f * (float)i + 0.4f) * (float)distinct) * 0.25f;
  return v;
}

std::vector<float> run_sort_truncate(Backend& be, int rows, int atoms, int keep,
                                     const std::vector<float>& pooled) {
  DeviceArray<float> in(be, pooled.size()), out(be, (size_t)rows * keep);
  in.upload(pooled.data(), pooled.size());
  be.sort_truncate_atoms(rows, atoms, keep, in.data(), out.data());
  std::vector<float> kept((size_t)rows * keep);
  out.download(kept.data(), kept.size());
  return kept;
}

std::vector<float> std_sort_truncate(int rows, int atoms, int keep, const std::vector<float>& pooled) {
  std::vector<float> kept;
  for (int r = 0; r < rows; ++r) {
    std::vector<float> row(pooled.begin() + (size_t)r * atoms, pooled.begin() + (size_t)(r + 1) * atoms);
    std::sort(row.begin(), row.end());
    kept.insert(kept.end(), row.begin(), row.begin() + keep);
  }
  return kept;
}

TEST(SortTruncate, KeepsEachRowsLowestAtomsInOrderAsStdSort) {
  auto be = make_backend("cpu", 1);
  struct Shape {
    int rows, atoms, keep, distinct;
  };
  // TQC's 5 x 25 atoms dropping 2 per critic; power-of-two and odd counts; many repeats
  for (Shape s : {Shape{7, 125, 115, 1000}, Shape{3, 128, 100, 1000}, Shape{4, 129, 1, 1000},
                  Shape{2, 33, 33, 3}, Shape{5, 1, 1, 10}, Shape{2, 2048, 2000, 5000}}) {
    SCOPED_TRACE("atoms " + std::to_string(s.atoms) + " keep " + std::to_string(s.keep));
    const std::vector<float> pooled = pooled_atoms(s.rows, s.atoms, s.distinct);
    EXPECT_EQ(run_sort_truncate(*be, s.rows, s.atoms, s.keep, pooled),
              std_sort_truncate(s.rows, s.atoms, s.keep, pooled));
  }
}

TEST(SortTruncate, SignedZerosAndInfinitiesHaveAFixedPlace) {
  auto be = make_backend("cpu", 1);
  const std::vector<float> pooled{0.0f, INFINITY, -0.0f, 1.0f, -INFINITY, -0.0f, 0.0f, -1.0f};
  const std::vector<float> kept = run_sort_truncate(*be, 1, 8, 8, pooled);
  const std::vector<float> want{-INFINITY, -1.0f, -0.0f, -0.0f, 0.0f, 0.0f, 1.0f, INFINITY};
  ASSERT_EQ(kept, want);
  for (int i = 2; i < 6; ++i) EXPECT_EQ(std::signbit(kept[i]), i < 4) << "position " << i;
}

TEST(SortTruncate, BadShapesAreRefusedNamingTheOp) {
  auto be = make_backend("cpu", 1);
  DeviceArray<float> buf(*be, 4096);
  struct Bad {
    int rows, atoms, keep;
    std::string named;
  };
  for (const Bad& bad : {Bad{1, 10, 11, "keep=11"}, Bad{1, 10, 0, "keep=0"},
                         Bad{1, 2049, 10, "atoms=2049"}, Bad{-1, 10, 5, "rows=-1"}}) {
    try {
      be->sort_truncate_atoms(bad.rows, bad.atoms, bad.keep, buf.data(), buf.data());
      ADD_FAILURE() << bad.named << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("sort_truncate_atoms"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.named), std::string::npos) << e.what();
    }
  }
}

TEST(CudaSortTruncate, MatchesTheCpuBitForBit) {
  SAC_SKIP_WITHOUT_GPU();
  auto cpu = make_backend("cpu", 1);
  auto gpu = make_backend("cuda");
  struct Shape {
    int rows, atoms, keep;
  };
  for (Shape s : {Shape{300, 125, 115}, Shape{3, 2048, 2040}, Shape{4, 1, 1}, Shape{5, 300, 7}}) {
    SCOPED_TRACE("atoms " + std::to_string(s.atoms) + " keep " + std::to_string(s.keep));
    std::vector<float> pooled = pooled_atoms(s.rows, s.atoms, 200);
    if (s.atoms > 4) {  // signed zeros and infinities among them
      pooled[1] = -0.0f;
      pooled[2] = INFINITY;
      pooled[3] = -INFINITY;
    }
    const std::vector<float> want = run_sort_truncate(*cpu, s.rows, s.atoms, s.keep, pooled);
    const std::vector<float> got = run_sort_truncate(*gpu, s.rows, s.atoms, s.keep, pooled);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
    EXPECT_EQ(want, std_sort_truncate(s.rows, s.atoms, s.keep, pooled));
  }
}

}  // namespace
}  // namespace sac

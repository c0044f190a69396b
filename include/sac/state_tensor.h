// state_tensor.h: StateTensor, one named buffer of a component's state as a checkpoint stores it
// (name, dtype, shape, where the values live). Each component lists its own state
// (Learner::state_tensors(), ReplayBuffer::state_tensors(), engine/formats/pool_state.h,
// engine/formats/trainer_state.h); engine/formats/state_tensors.h writes, reads and scans such lists, so a new
// buffer is added in one place. Tested by tests/test_checkpoint.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sac {

/// One named buffer of state: `shape` values of `dtype` at `data`.
struct StateTensor {
  /// Where the values live: host memory, or backend memory (device memory on CUDA, moved
  /// through Backend::download and Backend::upload).
  enum class Memory { kHost, kBackend };
  /// Which non-finite scans look at the tensor (engine/formats/state_tensors.h first_non_finite).
  enum class Scan { kNever, kAlways, kWithLosses, kWithMoments };

  std::string name;            // the checkpoint tensor name
  std::string dtype;           // "F32", "F64" or "I64"
  std::vector<int64_t> shape;  // row-major
  void* data = nullptr;        // the first value (memory as `memory` says)
  Memory memory = Memory::kHost;
  Scan scan = Scan::kNever;
  /// What a non-finite message calls the values: one label per value, or empty for
  /// "name[i]" ("name" for a single value).
  std::vector<std::string> labels;
  /// The member of a network group the values belong to (-1: not a member's).
  int member = -1;

  /// Number of values (the product of the shape).
  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

/// The safetensors dtype of a value type (uint64_t is stored as I64, with the same bits).
inline const char* state_dtype(const float*) { return "F32"; }
inline const char* state_dtype(const double*) { return "F64"; }
inline const char* state_dtype(const int64_t*) { return "I64"; }
inline const char* state_dtype(const uint64_t*) { return "I64"; }

/// A tensor of `shape` values of T at `data` in `memory`, looked at by `scan`.
template <typename T>
StateTensor state_tensor(std::string name, T* data, std::vector<int64_t> shape,
                         StateTensor::Memory memory,
                         StateTensor::Scan scan = StateTensor::Scan::kNever) {
  StateTensor t;
  t.name = std::move(name);
  t.dtype = state_dtype(data);
  t.shape = std::move(shape);
  t.data = data;
  t.memory = memory;
  t.scan = scan;
  return t;
}

/// A tensor in host memory; one value unless `shape` says otherwise.
template <typename T>
StateTensor host_tensor(std::string name, T* data, std::vector<int64_t> shape = {1}) {
  return state_tensor(std::move(name), data, std::move(shape), StateTensor::Memory::kHost);
}

/// A tensor in backend memory, looked at by `scan`.
template <typename T>
StateTensor backend_tensor(std::string name, T* d_data, std::vector<int64_t> shape,
                           StateTensor::Scan scan = StateTensor::Scan::kNever) {
  return state_tensor(std::move(name), d_data, std::move(shape), StateTensor::Memory::kBackend,
                      scan);
}

}  // namespace sac

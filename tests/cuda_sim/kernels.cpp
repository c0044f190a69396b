// kernels.cpp (CUDA simulator): kernels run block by block, each thread of a block a fiber
// (Boost.Context), with the GPU's execution rules checked.
//
// Limits (CUDA C++ Programming Guide, "Compute Capabilities", technical specifications for 9.0,
// and "Function Parameters" in the C++ language extensions): at most 1,024 threads per block,
// block dimensions x, y <= 1,024 and z <= 64, grid x <= 2^31 - 1, grid y and z <= 65,535, kernel
// parameters at most 32,764 bytes (CUDA 12.1 and later on Volta and newer), static shared
// memory at most 48 KiB per block. A launch over a limit is refused as CUDA refuses it
// (cudaErrorInvalidConfiguration), with the rule and the kernel named on stderr. Dynamic shared
// memory is not simulated (no kernel uses it): such a launch is refused too.
//
// Barriers ("Synchronization Functions"): __syncthreads() waits until every thread of the
// block has reached it; it is allowed in conditional code only where the condition is the same
// for the whole block. The scheduler runs each thread of a block until it reaches a barrier or
// exits; when every thread still running waits at one barrier they all go on. A barrier that
// some threads never reach (they exited, or wait at another barrier) can never complete: it is
// reported at once as a deadlock naming the kernel, its launch geometry, the block and the
// barriers, and the test aborts, never hangs.
//
// Shared memory ("Shared Memory"): one instance per block, uninitialised at block start: the
// simulator fills every __shared__ variable with 0xFF bytes (NaN as float) before each block,
// so a read before the write (a missing barrier) reads garbage, not a value left by the last
// block. Blocks run one at a time in a random order (a kernel may not depend on block order).
// Between two barriers the threads of a block run one after another in an order the scheduler's
// seed picks (SAC_CUDA_SIM_SEED % 3: 0 ascending, 1 random, a new permutation after every
// barrier, 2 descending): CUDA promises no order among the threads of a block ("Thread
// Hierarchy": threads of a block coordinate only through barriers and shared memory), so a
// value one thread writes to shared memory and another reads without a barrier between them is
// read before the write under some orders: the uninitialised fill, or another thread's stale
// value. Ascending order alone would hide the commonest case (thread 0 writes, all read).
#include <boost/context/detail/fcontext.hpp>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sim.h"

// the __shared__ section's bounds, set by the linker (weak: a program may declare none)
extern "C" char __start_cudasim_shared[] __attribute__((weak));
extern "C" char __stop_cudasim_shared[] __attribute__((weak));

namespace cudasim {

thread_local const KernelThread* t_kernel_thread = nullptr;

namespace {

namespace fc = boost::context::detail;

constexpr size_t kStackBytes = 128 * 1024;
constexpr size_t kGuardBytes = 4096;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockX = 1024, kMaxBlockY = 1024, kMaxBlockZ = 64;
constexpr unsigned long long kMaxGridX = 2147483647ull;
constexpr unsigned kMaxGridYZ = 65535;
constexpr size_t kMaxParameterBytes = 32764;
constexpr size_t kMaxStaticSharedBytes = 48 * 1024;

struct Stack {
  void* map = nullptr;  // guard page, then the stack
  void* top = nullptr;
};

std::vector<Stack>& free_stacks() {
  static std::vector<Stack> stacks;
  return stacks;
}

Stack acquire_stack() {
  auto& pool = free_stacks();
  if (!pool.empty()) {
    Stack s = pool.back();
    pool.pop_back();
    return s;
  }
  void* map = mmap(nullptr, kStackBytes + kGuardBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) fatal("cannot map a fiber stack");
  mprotect(map, kGuardBytes, PROT_NONE);  // an overflow faults instead of corrupting
  return Stack{map, static_cast<char*>(map) + kGuardBytes + kStackBytes};
}

enum class State { kNotStarted, kRunnable, kAtBarrier, kDone };

struct SimThread {
  KernelThread ids{};
  State state = State::kNotStarted;
  fc::fcontext_t context = nullptr;
  Stack stack;
  const char* barrier_file = nullptr;
  int barrier_line = 0;
};

// the order of this process's blocks' threads (atomic: the fault report reads it from a signal
// handler, without the device lock)
std::atomic<ThreadOrder>& current_order() {
  static std::atomic<ThreadOrder> order{[] {
    switch (scheduler_seed() % 3) {
      case 0: return ThreadOrder::kAscending;
      case 1: return ThreadOrder::kRandom;
      default: return ThreadOrder::kDescending;
    }
  }()};
  return order;
}

// the generator of the random permutations (its own, so that the streams' interleaving of a
// seed does not depend on the thread order)
std::mt19937_64& order_rng() {
  static std::mt19937_64 generator(scheduler_seed() ^ 0x9e3779b97f4a7c15ull);
  return generator;
}

// the order in which the threads of a block of n run up to the next barrier
void next_thread_order(std::vector<unsigned>& order, unsigned n) {
  order.resize(n);
  const ThreadOrder how = current_order();
  for (unsigned t = 0; t < n; ++t) order[t] = how == ThreadOrder::kDescending ? n - 1 - t : t;
  if (how == ThreadOrder::kRandom)
    for (unsigned t = n; t > 1; --t) std::swap(order[t - 1], order[order_rng()() % t]);
}

struct BlockRun {
  const KernelLaunch* launch = nullptr;
  SimThread* current = nullptr;
  fc::fcontext_t scheduler = nullptr;
};
thread_local BlockRun* t_block = nullptr;

void thread_main(fc::transfer_t from) {
  BlockRun* block = t_block;
  block->scheduler = from.fctx;
  SimThread* self = block->current;
  block->launch->run_thread(block->launch->kernel, block->launch->arguments.get());
  self->state = State::kDone;
  fc::jump_fcontext(block->scheduler, nullptr);  // never resumed
}

std::string dims(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + ", " + std::to_string(y) + ", " + std::to_string(z) + ")";
}

std::string site(const SimThread& t) {
  return std::string(t.barrier_file) + ":" + std::to_string(t.barrier_line);
}

void run_block(const KernelLaunch& launch, const std::vector<SharedVariable>& shared,
               uint3 block_idx, std::vector<SimThread>& threads) {
  const dim3 b = launch.block;
  const unsigned n = b.x * b.y * b.z;
  threads.assign(n, SimThread{});
  for (unsigned t = 0; t < n; ++t) {
    KernelThread& ids = threads[t].ids;
    ids.thread_idx = uint3{t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
    ids.block_idx = block_idx;
    ids.block_dim = launch.block;
    ids.grid_dim = launch.grid;
  }
  // uninitialised shared memory at block start: the kernel's own __shared__ variables, and the
  // section that holds those of non-template code (helpers' included)
  for (const SharedVariable& v : shared) std::memset(v.address, 0xFF, v.bytes);
  if (__start_cudasim_shared && __stop_cudasim_shared > __start_cudasim_shared)
    std::memset(__start_cudasim_shared, 0xFF,
                (size_t)(__stop_cudasim_shared - __start_cudasim_shared));
  BlockRun block;
  block.launch = &launch;
  BlockRun* outer = t_block;
  t_block = &block;
  std::vector<unsigned> order;
  for (;;) {
    next_thread_order(order, n);
    for (unsigned k : order) {
      SimThread& t = threads[k];
      if (t.state == State::kNotStarted) {
        t.stack = acquire_stack();
        t.context = fc::make_fcontext(t.stack.top, kStackBytes, thread_main);
        t.state = State::kRunnable;
      }
      if (t.state != State::kRunnable) continue;
      block.current = &t;
      t_kernel_thread = &t.ids;
      fc::transfer_t back = fc::jump_fcontext(t.context, nullptr);
      t.context = back.fctx;
      t_kernel_thread = nullptr;
      if (t.state == State::kDone) free_stacks().push_back(t.stack);
    }
    unsigned done = 0, waiting = 0;
    const SimThread* first_waiting = nullptr;
    for (const SimThread& t : threads) {
      if (t.state == State::kDone) ++done;
      if (t.state == State::kAtBarrier) {
        ++waiting;
        if (!first_waiting) first_waiting = &t;
      }
    }
    if (done == n) break;
    std::string where = describe_launch(launch) + " block " +
                        dims(block_idx.x, block_idx.y, block_idx.z);
    if (done > 0)
      fatal(where + ": deadlock: the barrier at " + site(*first_waiting) + " is reached by " +
            std::to_string(waiting) + " of the block's " + std::to_string(n) + " threads; " +
            std::to_string(done) + " exited without reaching it (__syncthreads in code that "
            "not every thread of the block runs)");
    for (const SimThread& t : threads)
      if (t.barrier_file != first_waiting->barrier_file ||
          t.barrier_line != first_waiting->barrier_line)
        fatal(where + ": deadlock: threads of one block wait at different barriers: thread " +
              dims(first_waiting->ids.thread_idx.x, first_waiting->ids.thread_idx.y,
                   first_waiting->ids.thread_idx.z) +
              " at " + site(*first_waiting) + ", thread " +
              dims(t.ids.thread_idx.x, t.ids.thread_idx.y, t.ids.thread_idx.z) + " at " +
              site(t));
    for (SimThread& t : threads) t.state = State::kRunnable;
  }
  t_block = outer;
}

}  // namespace

ThreadOrder thread_order() { return current_order().load(); }

ThreadOrder set_thread_order(ThreadOrder order) {
  DeviceLock lock(device_mutex());  // not while a kernel runs
  return current_order().exchange(order);
}

const char* thread_order_name(ThreadOrder order) {
  switch (order) {
    case ThreadOrder::kAscending: return "ascending";
    case ThreadOrder::kDescending: return "descending";
    case ThreadOrder::kRandom: return "random";
  }
  return "unknown";
}

const KernelThread& kernel_thread_checked() {
  fatal("threadIdx, blockIdx, blockDim or gridDim read outside a kernel");
}

void sync_threads(const char* file, int line) {
  BlockRun* block = t_block;
  if (!block || !block->current) fatal("__syncthreads() called outside a kernel");
  SimThread* self = block->current;
  self->state = State::kAtBarrier;
  self->barrier_file = file;
  self->barrier_line = line;
  fc::transfer_t back = fc::jump_fcontext(block->scheduler, nullptr);
  block->scheduler = back.fctx;
}

std::string describe_launch(const KernelLaunch& launch) {
  return function_name(launch.kernel) + "<<<" +
         dims(launch.grid.x, launch.grid.y, launch.grid.z) + ", " +
         dims(launch.block.x, launch.block.y, launch.block.z) + ">>>";
}

std::string check_launch_limits(const KernelLaunch& launch) {
  const dim3 g = launch.grid, b = launch.block;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z) return "a grid or block dimension is 0";
  unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  if (threads > kMaxThreadsPerBlock)
    return "a block of " + std::to_string(threads) + " threads exceeds the limit of 1,024";
  if (b.x > kMaxBlockX || b.y > kMaxBlockY || b.z > kMaxBlockZ)
    return "block dimensions exceed (1,024, 1,024, 64)";
  if (g.x > kMaxGridX) return "grid x exceeds 2^31 - 1";
  if (g.y > kMaxGridYZ || g.z > kMaxGridYZ) return "grid y or z exceeds 65,535";
  if (launch.parameter_bytes > kMaxParameterBytes)
    return "kernel parameters of " + std::to_string(launch.parameter_bytes) +
           " bytes exceed the limit of 32,764";
  size_t shared = static_shared_bytes(launch.kernel);
  if (shared > kMaxStaticSharedBytes)
    return "static shared memory of " + std::to_string(shared) +
           " bytes exceeds the limit of 48 KiB per block";
  if (launch.dynamic_shared_bytes > 0)
    return "dynamic shared memory is not simulated (" +
           std::to_string(launch.dynamic_shared_bytes) + " bytes asked)";
  return "";
}

void run_kernel(const KernelLaunch& launch) {
  const dim3 g = launch.grid;
  const size_t blocks = (size_t)g.x * g.y * g.z;
  // blocks in a random order, one at a time
  std::vector<size_t> order(blocks);
  for (size_t i = 0; i < blocks; ++i) order[i] = i;
  for (size_t i = blocks; i > 1; --i) std::swap(order[i - 1], order[random_number() % i]);
  std::vector<SimThread> threads;
  const std::vector<SharedVariable>& shared = shared_variables(launch.kernel);  // once a launch
  for (size_t i : order) {
    uint3 idx{(unsigned)(i % g.x), (unsigned)((i / g.x) % g.y), (unsigned)(i / ((size_t)g.x * g.y))};
    run_block(launch, shared, idx, threads);
  }
}

}  // namespace cudasim

using namespace cudasim;

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, const void* kernel) {
  if (!attributes || !kernel) return record_error(cudaErrorInvalidValue);
  *attributes = cudaFuncAttributes{};
  attributes->sharedSizeBytes = static_shared_bytes(kernel);
  attributes->maxThreadsPerBlock = 1024;
  attributes->ptxVersion = attributes->binaryVersion = 90;
  return cudaSuccess;
}

cudaError_t cudaFuncGetName(const char** name, const void* kernel) {
  if (!name || !kernel) return record_error(cudaErrorInvalidValue);
  *name = function_name(kernel).c_str();
  return cudaSuccess;
}

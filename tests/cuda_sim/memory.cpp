// memory.cpp (CUDA simulator): device memory apart from host memory, and the fault report.
//
// Each cudaMalloc gets its own mapping: a guard page, the data pages, a guard page; the data
// ends exactly at the trailing guard page (the start is aligned only as the size allows: the
// 256-byte alignment cudaMalloc promises is traded for catching an access one element past the
// end). Data pages are readable and writable only while device work runs (DeviceAccess: a
// kernel, a copy, a memset, a GEMM); at any other time host code that dereferences device
// memory faults at once. A freed allocation stays mapped without access, so a use after free
// faults too. The SIGSEGV handler names what faulted: the kernel with its launch geometry,
// block and thread, or host code, and where the address lies against the allocations.
// (CUDA Runtime API, "Memory Management": device memory is not accessible from the host;
// cudaHostAlloc memory is page-locked host memory that the host and, mapped, the device use.)
//
// Page-locked host memory (cudaHostAlloc) is real host memory, recorded so that copies and
// cudaPointerGetAttributes know it.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "sim.h"

namespace cudasim {

namespace {

constexpr size_t kPage = 4096;

struct DeviceAllocation {
  uintptr_t map_begin = 0;  // the leading guard page
  size_t map_bytes = 0;
  uintptr_t data_pages = 0;  // after the leading guard
  size_t data_pages_bytes = 0;
  uintptr_t base = 0;  // what cudaMalloc returned; base + size is the trailing guard page
  size_t size = 0;
  bool freed = false;
};

// keyed by map_begin; never erased (a freed allocation keeps its mapping, without access)
std::map<uintptr_t, DeviceAllocation>& device_allocations() {
  static std::map<uintptr_t, DeviceAllocation> map;
  return map;
}
// page-locked host allocations: base -> size
std::map<uintptr_t, size_t>& pinned_allocations() {
  static std::map<uintptr_t, size_t> map;
  return map;
}
int g_open_depth = 0;
size_t g_device_bytes = 0;
thread_local const std::string* t_running = nullptr;
struct sigaction g_previous_segv, g_previous_bus;

// the mapping (guards included) that holds `address`, or null
const DeviceAllocation* find_mapping(uintptr_t address) {
  auto& map = device_allocations();
  auto it = map.upper_bound(address);
  if (it == map.begin()) return nullptr;
  --it;
  const DeviceAllocation& a = it->second;
  return address < a.map_begin + a.map_bytes ? &a : nullptr;
}

// the live allocation whose data [base, base + size] holds `address` (one past the end too:
// an empty range at the end is valid), or null
const DeviceAllocation* find_live(uintptr_t address) {
  const DeviceAllocation* a = find_mapping(address);
  if (!a || a->freed || address < a->base || address > a->base + a->size) return nullptr;
  return a;
}

void protect(const DeviceAllocation& a, int prot) {
  if (mprotect(reinterpret_cast<void*>(a.data_pages), a.data_pages_bytes, prot) != 0)
    fatal(std::string("mprotect failed: ") + std::strerror(errno));
}

// where `address` lies against the device allocations, for the fault report
void describe_address(uintptr_t address, char* out, size_t size) {
  const DeviceAllocation* a = find_mapping(address);
  if (!a) {
    std::snprintf(out, size, "outside every device allocation");
  } else if (a->freed) {
    std::snprintf(out, size, "in a freed device allocation of %zu bytes at %p", a->size,
                  reinterpret_cast<void*>(a->base));
  } else if (address >= a->base + a->size) {
    std::snprintf(out, size, "%zu bytes past the end of the device allocation of %zu bytes at %p",
                  (size_t)(address - (a->base + a->size)), a->size,
                  reinterpret_cast<void*>(a->base));
  } else if (address < a->base) {
    std::snprintf(out, size, "%zu bytes before the device allocation of %zu bytes at %p",
                  (size_t)(a->base - address), a->size, reinterpret_cast<void*>(a->base));
  } else {
    std::snprintf(out, size, "at offset %zu of the device allocation of %zu bytes at %p",
                  (size_t)(address - a->base), a->size, reinterpret_cast<void*>(a->base));
  }
}

void on_fault(int signal, siginfo_t* info, void* context) {
  uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  const std::string* running = t_running;
  if (!running && !find_mapping(address)) {
    // not ours: the previous handler (or the default action) takes it
    sigaction(signal, signal == SIGSEGV ? &g_previous_segv : &g_previous_bus, nullptr);
    return;  // the faulting instruction runs again and faults under that handler
  }
  bool write = false;
#if defined(__x86_64__)
  write = (static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#else
  (void)context;
#endif
  char where[256];
  describe_address(address, where, sizeof where);
  char message[1024];
  if (running) {
    char thread[128] = "";
    if (t_kernel_thread) {
      const KernelThread& t = *t_kernel_thread;
      std::snprintf(thread, sizeof thread, " block (%u, %u, %u) thread (%u, %u, %u)",
                    t.block_idx.x, t.block_idx.y, t.block_idx.z, t.thread_idx.x, t.thread_idx.y,
                    t.thread_idx.z);
    }
    std::snprintf(message, sizeof message, "%s%s: invalid %s at %p, %s", running->c_str(),
                  thread, write ? "write" : "read", info->si_addr, where);
  } else {
    std::snprintf(message, sizeof message,
                  "host code %s device memory at %p (%s); device memory is reachable only by "
                  "kernels and copies",
                  write ? "wrote" : "read", info->si_addr, where);
  }
  fatal(message);
}

void install_fault_handler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction action {};
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
  sigaction(SIGBUS, &action, &g_previous_bus);
}

// the fault report runs on its own stack (a fiber's stack may be what overflowed)
void ensure_alternate_stack() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  constexpr size_t kBytes = 256 * 1024;
  void* stack = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = kBytes;
  sigaltstack(&ss, nullptr);
}

}  // namespace

void set_running(const std::string* what) { t_running = what; }

DeviceAccess::DeviceAccess() {
  ensure_alternate_stack();
  if (g_open_depth++ > 0) return;
  for (auto& [begin, a] : device_allocations())
    if (!a.freed) protect(a, PROT_READ | PROT_WRITE);
}

DeviceAccess::~DeviceAccess() {
  if (--g_open_depth > 0) return;
  for (auto& [begin, a] : device_allocations())
    if (!a.freed) protect(a, PROT_NONE);
}

MemoryKind memory_kind(const void* ptr) {
  auto address = reinterpret_cast<uintptr_t>(ptr);
  if (find_live(address)) return MemoryKind::kDevice;
  auto& pinned = pinned_allocations();
  auto it = pinned.upper_bound(address);
  if (it != pinned.begin()) {
    --it;
    if (address <= it->first + it->second) return MemoryKind::kPinned;
  }
  return MemoryKind::kPageable;
}

bool unreachable_from_device(const void* ptr) {
  DeviceLock lock(device_mutex());
  return memory_kind(ptr) == MemoryKind::kPageable;
}

std::string check_device_range(const void* ptr, size_t bytes) {
  auto address = reinterpret_cast<uintptr_t>(ptr);
  const DeviceAllocation* a = find_mapping(address);
  char text[256];
  if (!a || a->freed || address < a->base || address > a->base + a->size) {
    describe_address(address, text, sizeof text);
    return std::string("address ") + std::to_string(address) + " is " + text;
  }
  if (address + bytes > a->base + a->size) {
    std::snprintf(text, sizeof text,
                  "the range of %zu bytes at offset %zu runs %zu bytes past the end of the "
                  "device allocation of %zu bytes at %p",
                  bytes, (size_t)(address - a->base),
                  (size_t)(address + bytes - (a->base + a->size)), a->size,
                  reinterpret_cast<void*>(a->base));
    return text;
  }
  return "";
}

}  // namespace cudasim

using namespace cudasim;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  DeviceLock lock(device_mutex());
  if (!ptr) return refuse(cudaErrorInvalidValue, "cudaMalloc", "null result pointer");
  // not stream-ordered, so not capturable ("potentially unsafe" during capture)
  if (unsafe_during_capture("cudaMalloc")) return record_error(cudaErrorStreamCaptureUnsupported);
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  install_fault_handler();
  size_t data_pages_bytes = (bytes + kPage - 1) / kPage * kPage;
  size_t map_bytes = data_pages_bytes + 2 * kPage;
  void* map = mmap(nullptr, map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (map == MAP_FAILED) return record_error(cudaErrorMemoryAllocation);
  DeviceAllocation a;
  a.map_begin = reinterpret_cast<uintptr_t>(map);
  a.map_bytes = map_bytes;
  a.data_pages = a.map_begin + kPage;
  a.data_pages_bytes = data_pages_bytes;
  a.base = a.data_pages + data_pages_bytes - bytes;
  a.size = bytes;
  device_allocations()[a.map_begin] = a;
  if (g_open_depth > 0) protect(a, PROT_READ | PROT_WRITE);
  g_device_bytes += bytes;
  *ptr = reinterpret_cast<void*>(a.base);
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  DeviceLock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  if (unsafe_during_capture("cudaFree")) return record_error(cudaErrorStreamCaptureUnsupported);
  auto address = reinterpret_cast<uintptr_t>(ptr);
  const DeviceAllocation* found = find_mapping(address);
  if (!found || found->freed || found->base != address)
    return refuse(cudaErrorInvalidValue, "cudaFree",
                  found && found->freed ? "the allocation was already freed"
                                        : "not the start of a device allocation");
  // cudaFree synchronises: the work queued before it has run
  run_all_work();
  DeviceAllocation& a = device_allocations()[found->map_begin];
  a.freed = true;
  protect(a, PROT_NONE);
  madvise(reinterpret_cast<void*>(a.data_pages), a.data_pages_bytes, MADV_DONTNEED);
  g_device_bytes -= a.size;
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned) {
  DeviceLock lock(device_mutex());
  if (!ptr) return refuse(cudaErrorInvalidValue, "cudaHostAlloc", "null result pointer");
  if (unsafe_during_capture("cudaHostAlloc"))
    return record_error(cudaErrorStreamCaptureUnsupported);
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  void* p = std::aligned_alloc(kPage, (bytes + kPage - 1) / kPage * kPage);
  if (!p) return record_error(cudaErrorMemoryAllocation);
  pinned_allocations()[reinterpret_cast<uintptr_t>(p)] = bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  return cudaHostAlloc(ptr, bytes, cudaHostAllocDefault);
}

cudaError_t cudaFreeHost(void* ptr) {
  DeviceLock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  if (unsafe_during_capture("cudaFreeHost"))
    return record_error(cudaErrorStreamCaptureUnsupported);
  auto it = pinned_allocations().find(reinterpret_cast<uintptr_t>(ptr));
  if (it == pinned_allocations().end())
    return refuse(cudaErrorInvalidValue, "cudaFreeHost", "not a page-locked allocation");
  run_all_work();  // copies from or to it may still be queued
  pinned_allocations().erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  DeviceLock lock(device_mutex());
  const size_t total = size_t(80) << 30;
  if (free_bytes) *free_bytes = total > g_device_bytes ? total - g_device_bytes : 0;
  if (total_bytes) *total_bytes = total;
  return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  DeviceLock lock(device_mutex());
  if (!attributes) return refuse(cudaErrorInvalidValue, "cudaPointerGetAttributes", "null");
  *attributes = cudaPointerAttributes{};
  switch (memory_kind(ptr)) {
    case MemoryKind::kDevice:
      attributes->type = cudaMemoryTypeDevice;
      attributes->devicePointer = const_cast<void*>(ptr);
      break;
    case MemoryKind::kPinned:
      attributes->type = cudaMemoryTypeHost;
      attributes->hostPointer = const_cast<void*>(ptr);
      attributes->devicePointer = const_cast<void*>(ptr);
      break;
    case MemoryKind::kPageable:
      attributes->type = cudaMemoryTypeUnregistered;
      break;
  }
  return cudaSuccess;
}

// malloc_counter.c: an LD_PRELOAD module that counts the process's calls to malloc, calloc,
// realloc and aligned allocations (operator new comes through malloc) and prints the count to
// stderr at exit as "allocations: N". For steady_state_test.sh. Calls made from inside OpenBLAS
// are counted apart ("openblas_allocations: M"): OpenBLAS 0.3.21's small-matrix SGEMM kernels of
// SkylakeX/Cooperlake CPUs (sgemm_small_kernel_b0_nn_COOPERLAKE, found by a backtrace) allocate a
// buffer on every call, which is the library's, not the engine's; other CPUs' kernels do not.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_count, g_openblas_count;

// counts one allocation by `caller` (a return address): the engine's, or OpenBLAS's own
static void tally(void* caller) {
  Dl_info info;
  if (dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libopenblas"))
    atomic_fetch_add(&g_openblas_count, 1);
  else
    atomic_fetch_add(&g_count, 1);
}

static void* (*g_malloc)(size_t);
static void* (*g_calloc)(size_t, size_t);
static void* (*g_realloc)(void*, size_t);
static int (*g_posix_memalign)(void**, size_t, size_t);
static void* (*g_aligned_alloc)(size_t, size_t);

// dlsym may itself call calloc before g_calloc is known: serve that from a static buffer
static char g_early[4096];
static size_t g_early_used;

void* malloc(size_t n) {
  if (!g_malloc) g_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  tally(__builtin_return_address(0));
  return g_malloc(n);
}

void* calloc(size_t count, size_t n) {
  if (!g_calloc) {
    static int resolving;
    if (resolving) {
      void* p = g_early + g_early_used;  // zeroed: static storage
      g_early_used += (count * n + 15) & ~(size_t)15;
      return g_early_used <= sizeof g_early ? p : NULL;
    }
    resolving = 1;
    g_calloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    resolving = 0;
  }
  tally(__builtin_return_address(0));
  return g_calloc(count, n);
}

void* realloc(void* p, size_t n) {
  if (!g_realloc) g_realloc = (void* (*)(void*, size_t))dlsym(RTLD_NEXT, "realloc");
  tally(__builtin_return_address(0));
  return g_realloc(p, n);
}

int posix_memalign(void** p, size_t alignment, size_t n) {
  if (!g_posix_memalign)
    g_posix_memalign = (int (*)(void**, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  tally(__builtin_return_address(0));
  return g_posix_memalign(p, alignment, n);
}

void* aligned_alloc(size_t alignment, size_t n) {
  if (!g_aligned_alloc)
    g_aligned_alloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  tally(__builtin_return_address(0));
  return g_aligned_alloc(alignment, n);
}

void free(void* p) {
  static void (*g_free)(void*);
  if ((char*)p >= g_early && (char*)p < g_early + sizeof g_early) return;
  if (!g_free) g_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
  g_free(p);
}

__attribute__((destructor)) static void report(void) {
  fprintf(stderr, "allocations: %ld\nopenblas_allocations: %ld\n", (long)atomic_load(&g_count),
          (long)atomic_load(&g_openblas_count));
}

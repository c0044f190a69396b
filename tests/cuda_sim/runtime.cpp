// runtime.cpp (CUDA simulator): the device lock, errors and their strings, and what the device
// says of itself (one device, compute capability 9.0, named as simulated).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim.h"

namespace cudasim {

namespace {
thread_local cudaError_t t_last_error = cudaSuccess;
}

std::recursive_mutex& device_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

void fatal(const std::string& message) {
  // one write, so that the report is not interleaved with other output
  char text[2048];
  int n = std::snprintf(text, sizeof text,
                        "cuda-sim: %s [simulator scheduler seed %llu: SAC_CUDA_SIM_SEED; threads of a "
                        "block in %s order]\n",
                        message.c_str(), (unsigned long long)scheduler_seed(),
                        thread_order_name(thread_order()));
  if (n > 0) {
    ssize_t ignored = write(2, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    (void)ignored;
  }
  std::abort();
}

cudaError_t record_error(cudaError_t error) {
  if (error != cudaSuccess) t_last_error = error;
  return error;
}

void report(const std::string& call, const std::string& message) {
  std::fprintf(stderr, "cuda-sim: %s: %s\n", call.c_str(), message.c_str());
}

cudaError_t refuse(cudaError_t error, const std::string& call, const std::string& message) {
  report(call, message + " (" + cudaGetErrorName(error) + ")");
  return record_error(error);
}

}  // namespace cudasim

using namespace cudasim;

cudaError_t cudaGetLastError() {
  cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return t_last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define SIM_ERROR_NAME(e) \
  case e:                 \
    return #e;
    SIM_ERROR_NAME(cudaSuccess)
    SIM_ERROR_NAME(cudaErrorInvalidValue)
    SIM_ERROR_NAME(cudaErrorMemoryAllocation)
    SIM_ERROR_NAME(cudaErrorInitializationError)
    SIM_ERROR_NAME(cudaErrorInvalidConfiguration)
    SIM_ERROR_NAME(cudaErrorInvalidDevicePointer)
    SIM_ERROR_NAME(cudaErrorInvalidMemcpyDirection)
    SIM_ERROR_NAME(cudaErrorInsufficientDriver)
    SIM_ERROR_NAME(cudaErrorNoDevice)
    SIM_ERROR_NAME(cudaErrorInvalidDevice)
    SIM_ERROR_NAME(cudaErrorInvalidResourceHandle)
    SIM_ERROR_NAME(cudaErrorIllegalState)
    SIM_ERROR_NAME(cudaErrorNotReady)
    SIM_ERROR_NAME(cudaErrorIllegalAddress)
    SIM_ERROR_NAME(cudaErrorLaunchFailure)
    SIM_ERROR_NAME(cudaErrorNotSupported)
    SIM_ERROR_NAME(cudaErrorStreamCaptureUnsupported)
    SIM_ERROR_NAME(cudaErrorStreamCaptureInvalidated)
    SIM_ERROR_NAME(cudaErrorStreamCaptureMerge)
    SIM_ERROR_NAME(cudaErrorStreamCaptureUnmatched)
    SIM_ERROR_NAME(cudaErrorStreamCaptureUnjoined)
    SIM_ERROR_NAME(cudaErrorStreamCaptureIsolation)
    SIM_ERROR_NAME(cudaErrorStreamCaptureImplicit)
    SIM_ERROR_NAME(cudaErrorStreamCaptureWrongThread)
    SIM_ERROR_NAME(cudaErrorUnknown)
#undef SIM_ERROR_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "operation not permitted when stream is capturing";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureUnjoined: return "capture dependency left unjoined";
    case cudaErrorStreamCaptureUnmatched: return "capture was not initiated in this stream";
    case cudaErrorStreamCaptureIsolation:
      return "dependency created on uncaptured work in another stream";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    default: return cudaGetErrorName(error);
  }
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record_error(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return record_error(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : record_error(cudaErrorInvalidDevice);
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version) *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version) *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value || device != 0) return record_error(cudaErrorInvalidValue);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 1; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
  }
  return record_error(cudaErrorInvalidValue);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop || device != 0) return record_error(cudaErrorInvalidValue);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "CUDA simulator on the CPU (tests/cuda_sim)");
  prop->totalGlobalMem = size_t(80) << 30;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024, prop->maxThreadsDim[1] = 1024, prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647, prop->maxGridSize[1] = 65535, prop->maxGridSize[2] = 65535;
  prop->multiProcessorCount = 1;
  prop->major = 9, prop->minor = 0;
  prop->warpSize = 32;
  return cudaSuccess;
}

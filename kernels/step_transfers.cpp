// step_transfers.cpp: the Backend's default step-loop transfers (backend.h): a backend whose
// copies finish on return (the CPU backend) needs no queue, so they are the blocking copies and
// waiting on a lane has nothing to wait for. The CUDA backend queues them (cuda_backend.cu).
#include "sac/backend.h"

namespace sac {

void Backend::upload_async(void* dst, const void* host_src, size_t bytes) {
  upload(dst, host_src, bytes);
}

void Backend::download_async(void* host_dst, const void* src, size_t bytes) {
  download(host_dst, src, bytes);
}

void Backend::wait_lane(int lane) {
  check_lane(lane);
  refuse_while_recording("wait_lane");
}

}  // namespace sac

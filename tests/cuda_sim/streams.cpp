// streams.cpp (CUDA simulator): streams and events with the ordering CUDA promises and no more,
// graph capture and graphs, copies and memsets.
//
// Ordering (CUDA Runtime API, "Stream Management" and "Event Management"; Programming Guide,
// "Streams"): work queued on one stream runs in issue order; work on different streams has no
// order unless a stream waits on an event recorded in another (cudaStreamWaitEvent). The
// simulator queues all device work and runs it only when something forces it: a synchronize
// of the stream, the device or an event, a blocking call, or a point chosen by a seeded random
// scheduler (SAC_CUDA_SIM_SEED, default 1) at which a random stream makes a little progress, as
// a GPU would run it at some unknown time. So a missing wait between two streams, or a host
// read of page-locked memory before the copy into it was waited for, reads stale data here as
// it may on a GPU. Non-blocking streams (cudaStreamNonBlocking) do not synchronise with the
// legacy default stream; blocking ones do ("Default Stream").
//
// Copies ("API synchronization behavior" of the Runtime API): from pageable host memory the
// source is staged at the call, so the caller may reuse it at once; into pageable host memory
// the copy may be synchronous with the host, and here it is (the buffer is never written after
// the call returns); from or into page-locked memory it runs when the stream gets to it.
//
// Graph capture (Programming Guide, "CUDA Graphs" > "Stream Capture"; Runtime API
// cudaStreamBeginCapture, cudaStreamEndCapture, cudaThreadExchangeStreamCaptureMode): work
// issued to a capturing stream is recorded, not run; another stream joins the capture by
// waiting on an event recorded in it ("Cross-stream Dependencies and Events") and must be
// joined back before the capture ends, else cudaErrorStreamCaptureUnjoined; synchronizing or
// querying a capturing stream or a captured event is refused and invalidates the capture
// ("Prohibited and Unhandled Operations", "Invalidation"); potentially unsafe calls
// (cudaMalloc, cudaFree, cudaHostAlloc, cudaFreeHost, synchronous copies and memsets, device
// synchronize) are refused by the capture mode's rule; a graph replays exactly what was
// recorded, arguments and pointers included, its independent branches in a random order.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim.h"

struct Capture;

struct Dependency {
  CUstream_st* stream;
  uint64_t seq;
};

struct Task {
  uint64_t seq = 0;
  cudasim::Work work;              // empty run: a marker (an event record, a wait)
  std::vector<Dependency> after;  // runs only after these points of other streams
};

struct CUstream_st {
  unsigned flags = cudaStreamDefault;
  bool legacy = false;
  bool destroyed = false;
  std::deque<Task> pending;
  uint64_t issued = 0, completed = 0;
  Capture* capture = nullptr;
  std::vector<int> leaves;  // in a capture: the nodes the stream's next node depends on
};

struct CUevent_st {
  unsigned flags = 0;
  bool destroyed = false;
  CUstream_st* stream = nullptr;  // the last record outside a capture: (stream, seq)
  uint64_t seq = 0;
  Capture* capture = nullptr;  // the last record inside a capture: its nodes
  std::vector<int> nodes;
};

struct CUgraphNode_st {
  cudasim::Work work;
  std::vector<int> deps;
};
using GraphNode = CUgraphNode_st;

struct CUgraph_st {
  std::vector<GraphNode> nodes;
};

struct CUgraphExec_st {
  std::vector<GraphNode> nodes;
};

struct Capture {
  CUgraph_st* graph = nullptr;
  CUstream_st* origin = nullptr;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  std::thread::id thread;
  bool invalidated = false;
  std::string why;
  std::vector<CUstream_st*> streams;
};

namespace cudasim {
namespace {

constexpr int kProgressOneIn = 6;  // a random stream makes progress at one enqueue in this many

CUstream_st& legacy_stream() {
  static CUstream_st* s = [] {
    auto* stream = new CUstream_st;
    stream->legacy = true;
    return stream;
  }();
  return *s;
}
std::vector<CUstream_st*>& streams() {
  static std::vector<CUstream_st*> all{&legacy_stream()};
  return all;
}
std::vector<Capture*>& captures() {  // active captures
  static std::vector<Capture*> all;
  return all;
}
thread_local cudaStreamCaptureMode t_capture_mode = cudaStreamCaptureModeGlobal;

std::mt19937_64& rng() {
  static std::mt19937_64 generator(scheduler_seed());
  return generator;
}

// nullptr is the legacy default stream; a destroyed or unknown stream is null
CUstream_st* resolve(cudaStream_t stream) {
  if (!stream) return &legacy_stream();
  auto& all = streams();
  if (std::find(all.begin(), all.end(), stream) == all.end() || stream->destroyed) return nullptr;
  return stream;
}

bool blocking(const CUstream_st* s) { return !s->legacy && !(s->flags & cudaStreamNonBlocking); }

// the implicit ordering of the legacy default stream with the blocking streams
std::vector<Dependency> implicit_dependencies(CUstream_st* s) {
  std::vector<Dependency> after;
  if (s->legacy) {
    for (CUstream_st* other : streams())
      if (blocking(other) && other->issued > other->completed)
        after.push_back({other, other->issued});
  } else if (blocking(s)) {
    CUstream_st& legacy = legacy_stream();
    if (legacy.issued > legacy.completed) after.push_back({&legacy, legacy.issued});
  }
  return after;
}

uint64_t push_task(CUstream_st* s, Work work, std::vector<Dependency> after = {}) {
  for (const Dependency& d : implicit_dependencies(s)) after.push_back(d);
  Task task;
  task.seq = ++s->issued;
  task.work = std::move(work);
  task.after = std::move(after);
  s->pending.push_back(std::move(task));
  return s->issued;
}

// runs the queued work of s until it has completed `upto` (the caller holds DeviceAccess)
void drain(CUstream_st* s, uint64_t upto) {
  while (s->completed < upto && !s->pending.empty()) {
    Task task = std::move(s->pending.front());
    s->pending.pop_front();
    for (const Dependency& d : task.after) drain(d.stream, d.seq);
    if (task.work.run) {
      set_running(&task.work.what);
      task.work.run();
      set_running(nullptr);
    }
    s->completed = task.seq;
  }
}

void run_until(CUstream_st* s, uint64_t upto) {
  if (s->completed >= upto) return;
  DeviceAccess open;
  drain(s, upto);
}

// a random stream with queued work runs a few of its tasks (as a GPU would, at a time the
// host cannot know)
bool g_random_progress = true;

void maybe_progress() {
  if (!g_random_progress || rng()() % kProgressOneIn != 0) return;
  std::vector<CUstream_st*> busy;
  for (CUstream_st* s : streams())
    if (!s->pending.empty()) busy.push_back(s);
  if (busy.empty()) return;
  CUstream_st* s = busy[rng()() % busy.size()];
  run_until(s, s->completed + 1 + rng()() % 3);
}

void invalidate(Capture* c, const std::string& why) {
  if (!c->invalidated) c->why = why;
  c->invalidated = true;
}

bool active(const Capture* c) {
  auto& all = captures();
  return std::find(all.begin(), all.end(), c) != all.end();
}

// a call CUDA refuses while `c` captures: the capture (while still active) is invalidated by it,
// and the call fails with `error`
cudaError_t refuse_in_capture(Capture* c, cudaError_t error, const char* call,
                              const std::string& message) {
  if (c && active(c)) invalidate(c, std::string(call) + ": " + message);
  return refuse(error, call, message + "; the capture is invalidated");
}

void end_capture(Capture* c) {
  for (CUstream_st* s : c->streams) {
    s->capture = nullptr;
    s->leaves.clear();
  }
  auto& all = captures();
  all.erase(std::find(all.begin(), all.end(), c));
}

// every node `leaves` depend on, themselves included
std::set<int> ancestors(const CUgraph_st& graph, const std::vector<int>& leaves) {
  std::set<int> seen;
  std::vector<int> todo(leaves);
  while (!todo.empty()) {
    int n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    for (int d : graph.nodes[n].deps) todo.push_back(d);
  }
  return seen;
}

// the nodes in a random order that respects their dependencies
void run_graph(const std::vector<GraphNode>& nodes) {
  std::vector<int> waiting(nodes.size());
  std::vector<std::vector<int>> users(nodes.size());
  std::vector<int> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    waiting[i] = (int)nodes[i].deps.size();
    for (int d : nodes[i].deps) users[d].push_back((int)i);
    if (waiting[i] == 0) ready.push_back((int)i);
  }
  while (!ready.empty()) {
    size_t pick = rng()() % ready.size();
    int n = ready[pick];
    ready.erase(ready.begin() + pick);
    if (nodes[n].work.run) {
      set_running(&nodes[n].work.what);
      nodes[n].work.run();
      set_running(nullptr);
    }
    for (int u : users[n])
      if (--waiting[u] == 0) ready.push_back(u);
  }
}

const char* kind_name(MemoryKind k) {
  switch (k) {
    case MemoryKind::kDevice: return "device memory";
    case MemoryKind::kPinned: return "page-locked host memory";
    case MemoryKind::kPageable: return "pageable host memory";
  }
  return "memory";
}

}  // namespace

uint64_t scheduler_seed() {
  static const uint64_t seed = [] {
    const char* v = std::getenv("SAC_CUDA_SIM_SEED");
    return v && *v ? std::strtoull(v, nullptr, 10) : 1ull;
  }();
  return seed;
}

uint64_t random_number() { return rng()(); }

bool set_random_progress(bool on) {
  DeviceLock lock(device_mutex());
  std::swap(on, g_random_progress);
  return on;
}

void run_all_work() {
  DeviceAccess open;
  for (CUstream_st* s : streams()) drain(s, s->issued);
}

bool is_capturing(cudaStream_t stream) {
  CUstream_st* s = resolve(stream);
  return s && s->capture;
}

bool unsafe_during_capture(const char* call) {
  if (t_capture_mode == cudaStreamCaptureModeRelaxed) return false;
  const std::thread::id me = std::this_thread::get_id();
  for (Capture* c : captures()) {
    bool own = c->thread == me && c->mode != cudaStreamCaptureModeRelaxed;
    bool global = c->thread != me && c->mode == cudaStreamCaptureModeGlobal &&
                  t_capture_mode == cudaStreamCaptureModeGlobal;
    if (own || global) {
      refuse_in_capture(c, cudaErrorStreamCaptureUnsupported, call,
                        "a potentially unsafe call while a stream captures "
                        "(cudaThreadExchangeStreamCaptureMode)");
      return true;
    }
  }
  return false;
}

cudaError_t enqueue(cudaStream_t stream, Work work, const char* call) {
  CUstream_st* s = resolve(stream);
  if (!s) return refuse(cudaErrorInvalidResourceHandle, call, "unknown or destroyed stream");
  if (Capture* c = s->capture) {
    if (c->invalidated) return record_error(cudaErrorStreamCaptureInvalidated);
    int node = (int)c->graph->nodes.size();
    c->graph->nodes.push_back(GraphNode{std::move(work), s->leaves});
    s->leaves = {node};
    return cudaSuccess;
  }
  push_task(s, std::move(work));
  maybe_progress();
  return cudaSuccess;
}

cudaError_t finish_stream(cudaStream_t stream) {
  CUstream_st* s = resolve(stream);
  if (s) run_until(s, s->issued);
  return cudaSuccess;
}

}  // namespace cudasim

using namespace cudasim;

// ---- streams

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  DeviceLock lock(device_mutex());
  if (!stream) return refuse(cudaErrorInvalidValue, "cudaStreamCreate", "null result pointer");
  auto* s = new CUstream_st;
  s->flags = flags;
  streams().push_back(s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s || s->legacy)
    return refuse(cudaErrorInvalidResourceHandle, "cudaStreamDestroy", "unknown stream");
  if (s->capture)
    return refuse(cudaErrorIllegalState, "cudaStreamDestroy", "the stream is capturing");
  // its queued work still runs ("the resources are released once the device has completed
  // all work in the stream"); the object stays, so events recorded in it stay answerable
  run_until(s, s->issued);
  s->destroyed = true;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s) return refuse(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize", "unknown stream");
  if (s->capture)
    return refuse_in_capture(s->capture, cudaErrorStreamCaptureUnsupported,
                             "cudaStreamSynchronize",
                             "synchronizing a capturing stream is prohibited");
  if (s->legacy && unsafe_during_capture("cudaStreamSynchronize(legacy stream)"))
    return record_error(cudaErrorStreamCaptureUnsupported);
  run_until(s, s->issued);
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s) return refuse(cudaErrorInvalidResourceHandle, "cudaStreamQuery", "unknown stream");
  if (s->capture)
    return refuse_in_capture(s->capture, cudaErrorStreamCaptureUnsupported, "cudaStreamQuery",
                             "querying a capturing stream is prohibited");
  if (s->completed >= s->issued) return cudaSuccess;
  run_until(s, s->completed + 1);  // the device moves on while the host polls
  return s->completed >= s->issued ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaDeviceSynchronize() {
  DeviceLock lock(device_mutex());
  if (unsafe_during_capture("cudaDeviceSynchronize"))
    return record_error(cudaErrorStreamCaptureUnsupported);
  run_all_work();
  return cudaSuccess;
}

// ---- events

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  DeviceLock lock(device_mutex());
  if (!event) return refuse(cudaErrorInvalidValue, "cudaEventCreate", "null result pointer");
  auto* e = new CUevent_st;
  e->flags = flags;
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  DeviceLock lock(device_mutex());
  if (!event || event->destroyed)
    return refuse(cudaErrorInvalidResourceHandle, "cudaEventDestroy", "unknown event");
  event->destroyed = true;  // kept: a wait queued on it may still refer to its stream
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!event || event->destroyed || !s)
    return refuse(cudaErrorInvalidResourceHandle, "cudaEventRecord", "unknown event or stream");
  if (Capture* c = s->capture) {
    if (c->invalidated) return record_error(cudaErrorStreamCaptureInvalidated);
    event->capture = c;
    event->nodes = s->leaves;
    event->stream = nullptr;
    return cudaSuccess;
  }
  event->capture = nullptr;
  event->nodes.clear();
  event->stream = s;
  event->seq = push_task(s, Work{"cudaEventRecord", nullptr});
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!event || event->destroyed || !s)
    return refuse(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent", "unknown event or stream");
  if (Capture* c = event->capture) {
    if (!active(c))
      return refuse(cudaErrorStreamCaptureIsolation, "cudaStreamWaitEvent",
                    "the event was last recorded in a capture that has ended");
    if (c->invalidated) return record_error(cudaErrorStreamCaptureInvalidated);
    if (!s->capture) {
      // the stream joins the capture ("Cross-stream Dependencies and Events")
      s->capture = c;
      s->leaves = event->nodes;
      c->streams.push_back(s);
    } else if (s->capture == c) {
      for (int n : event->nodes)
        if (std::find(s->leaves.begin(), s->leaves.end(), n) == s->leaves.end())
          s->leaves.push_back(n);
    } else {
      return refuse_in_capture(s->capture, cudaErrorStreamCaptureMerge, "cudaStreamWaitEvent",
                               "the event belongs to another capture");
    }
    return cudaSuccess;
  }
  if (s->capture)
    return refuse_in_capture(s->capture, cudaErrorStreamCaptureIsolation, "cudaStreamWaitEvent",
                             "a capturing stream waits on an event recorded outside the capture");
  if (!event->stream) return cudaSuccess;  // never recorded: nothing to wait for
  push_task(s, Work{"cudaStreamWaitEvent", nullptr}, {Dependency{event->stream, event->seq}});
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  DeviceLock lock(device_mutex());
  if (!event || event->destroyed)
    return refuse(cudaErrorInvalidResourceHandle, "cudaEventSynchronize", "unknown event");
  if (event->capture)
    return refuse_in_capture(event->capture, cudaErrorStreamCaptureUnsupported,
                             "cudaEventSynchronize", "the event was recorded in a capture");
  if (event->stream) run_until(event->stream, event->seq);
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  DeviceLock lock(device_mutex());
  if (!event || event->destroyed)
    return refuse(cudaErrorInvalidResourceHandle, "cudaEventQuery", "unknown event");
  if (event->capture)
    return refuse_in_capture(event->capture, cudaErrorStreamCaptureUnsupported, "cudaEventQuery",
                             "the event was recorded in a capture");
  if (!event->stream || event->stream->completed >= event->seq) return cudaSuccess;
  run_until(event->stream, event->stream->completed + 1);  // the device moves on meanwhile
  return event->stream->completed >= event->seq ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float*, cudaEvent_t, cudaEvent_t) {
  return refuse(cudaErrorNotSupported, "cudaEventElapsedTime",
                "the simulator proves logic, never speed: no timing");
}

// ---- capture

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (!mode) return record_error(cudaErrorInvalidValue);
  std::swap(*mode, t_capture_mode);
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s) return refuse(cudaErrorInvalidResourceHandle, "cudaStreamBeginCapture", "unknown stream");
  if (s->legacy)
    return refuse(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture",
                  "the legacy default stream cannot capture");
  if (s->capture)
    return refuse(cudaErrorIllegalState, "cudaStreamBeginCapture", "the stream already captures");
  auto* c = new Capture;
  c->graph = new CUgraph_st;
  c->origin = s;
  c->mode = mode;
  c->thread = std::this_thread::get_id();
  c->streams = {s};
  s->capture = c;
  s->leaves.clear();
  captures().push_back(c);
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s || !status) return refuse(cudaErrorInvalidValue, "cudaStreamIsCapturing", "bad argument");
  *status = !s->capture ? cudaStreamCaptureStatusNone
            : s->capture->invalidated ? cudaStreamCaptureStatusInvalidated
                                      : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  DeviceLock lock(device_mutex());
  CUstream_st* s = resolve(stream);
  if (!s || !graph) return refuse(cudaErrorInvalidValue, "cudaStreamEndCapture", "bad argument");
  *graph = nullptr;
  Capture* c = s->capture;
  if (!c) return refuse(cudaErrorIllegalState, "cudaStreamEndCapture", "the stream is not capturing");
  if (c->origin != s)
    return refuse_in_capture(c, cudaErrorStreamCaptureUnmatched, "cudaStreamEndCapture",
                             "the capture began on another stream");
  if (c->mode != cudaStreamCaptureModeRelaxed && c->thread != std::this_thread::get_id())
    return refuse(cudaErrorStreamCaptureWrongThread, "cudaStreamEndCapture",
                  "the capture began on another thread");
  std::unique_ptr<Capture> ended(c);
  std::unique_ptr<CUgraph_st> recorded(c->graph);
  // every stream that joined must be joined back: its last nodes among the origin's ancestors
  int unjoined = 0;
  if (!c->invalidated) {
    std::set<int> joined = ancestors(*recorded, s->leaves);
    for (CUstream_st* other : c->streams) {
      if (other == s) continue;
      for (int leaf : other->leaves)
        if (!joined.count(leaf)) {
          ++unjoined;
          break;
        }
    }
  }
  end_capture(c);
  if (c->invalidated)
    return refuse(cudaErrorStreamCaptureInvalidated, "cudaStreamEndCapture",
                  "the capture was invalidated by " + c->why);
  if (unjoined > 0)
    return refuse(cudaErrorStreamCaptureUnjoined, "cudaStreamEndCapture",
                  std::to_string(unjoined) +
                      " stream(s) that joined the capture were not joined back into the origin "
                      "stream before it ended");
  *graph = recorded.release();
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  DeviceLock lock(device_mutex());
  if (!exec || !graph) return refuse(cudaErrorInvalidValue, "cudaGraphInstantiate", "null");
  auto* e = new CUgraphExec_st;
  e->nodes = graph->nodes;
  *exec = e;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  if (!exec) return refuse(cudaErrorInvalidValue, "cudaGraphLaunch", "null graph");
  if (is_capturing(stream))
    return refuse(cudaErrorStreamCaptureUnsupported, "cudaGraphLaunch",
                  "launching a graph inside a capture is not simulated");
  auto nodes = std::make_shared<std::vector<GraphNode>>(exec->nodes);
  return enqueue(stream,
                 Work{"cudaGraphLaunch (" + std::to_string(nodes->size()) + " nodes)",
                      [nodes] { run_graph(*nodes); }},
                 "cudaGraphLaunch");
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  DeviceLock lock(device_mutex());
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  DeviceLock lock(device_mutex());
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  DeviceLock lock(device_mutex());
  if (!graph || !count) return record_error(cudaErrorInvalidValue);
  if (nodes) {
    *count = std::min(*count, graph->nodes.size());
    for (size_t i = 0; i < *count; ++i) nodes[i] = &graph->nodes[i];
  } else {
    *count = graph->nodes.size();
  }
  return cudaSuccess;
}

cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, cudaGraphNodeType* type) {
  if (!node || !type) return record_error(cudaErrorInvalidValue);
  *type = node->work.kind;
  return cudaSuccess;
}

// ---- copies and memsets

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  const char* call = "cudaMemcpyAsync";
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return refuse(cudaErrorInvalidValue, call, "null pointer");
  CUstream_st* s = resolve(stream);
  if (!s) return refuse(cudaErrorInvalidResourceHandle, call, "unknown stream");
  MemoryKind dk = memory_kind(dst), sk = memory_kind(src);
  bool dst_device = dk == MemoryKind::kDevice, src_device = sk == MemoryKind::kDevice;
  bool ok = kind == cudaMemcpyDefault ||
            (kind == cudaMemcpyHostToDevice && dst_device && !src_device) ||
            (kind == cudaMemcpyDeviceToHost && !dst_device && src_device) ||
            (kind == cudaMemcpyDeviceToDevice && dst_device && src_device) ||
            (kind == cudaMemcpyHostToHost && !dst_device && !src_device);
  if (!ok)
    return refuse(cudaErrorInvalidValue, call,
                  std::string("the copy's kind does not match its pointers: destination in ") +
                      kind_name(dk) + ", source in " + kind_name(sk));
  if (dst_device) {
    std::string why = check_device_range(dst, bytes);
    if (!why.empty()) fatal(std::string(call) + ": destination: " + why);
  }
  if (src_device) {
    std::string why = check_device_range(src, bytes);
    if (!why.empty()) fatal(std::string(call) + ": source: " + why);
  }
  if (s->capture && (dk == MemoryKind::kPageable || sk == MemoryKind::kPageable))
    return refuse_in_capture(s->capture, cudaErrorStreamCaptureUnsupported, call,
                             "a copy from or to pageable host memory cannot be captured");
  std::string what = std::string(call) + "(" + std::to_string(bytes) + " bytes, " +
                     kind_name(sk) + " to " + kind_name(dk) + ")";
  std::function<void()> run;
  if (sk == MemoryKind::kPageable) {
    // staged at the call: the caller may reuse its buffer at once
    auto staged = std::make_shared<std::vector<char>>(static_cast<const char*>(src),
                                                      static_cast<const char*>(src) + bytes);
    run = [dst, staged] { std::memcpy(dst, staged->data(), staged->size()); };
  } else {
    run = [dst, src, bytes] { std::memcpy(dst, src, bytes); };
  }
  cudaError_t err = enqueue(stream, Work{what, std::move(run), cudaGraphNodeTypeMemcpy}, call);
  if (err != cudaSuccess) return err;
  // into pageable memory the copy is synchronous with the host
  if (dk == MemoryKind::kPageable) finish_stream(stream);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  DeviceLock lock(device_mutex());
  if (unsafe_during_capture("cudaMemcpy")) return record_error(cudaErrorStreamCaptureUnsupported);
  cudaError_t err = cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
  if (err != cudaSuccess) return err;
  return finish_stream(nullptr);
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  DeviceLock lock(device_mutex());
  const char* call = "cudaMemsetAsync";
  if (bytes == 0) return cudaSuccess;
  std::string why = check_device_range(ptr, bytes);
  if (!why.empty()) fatal(std::string(call) + ": " + why);
  return enqueue(stream,
                 Work{std::string(call) + "(" + std::to_string(bytes) + " bytes)",
                      [ptr, value, bytes] { std::memset(ptr, value, bytes); },
                      cudaGraphNodeTypeMemset},
                 call);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  DeviceLock lock(device_mutex());
  if (unsafe_during_capture("cudaMemset")) return record_error(cudaErrorStreamCaptureUnsupported);
  cudaError_t err = cudaMemsetAsync(ptr, value, bytes, nullptr);
  if (err != cudaSuccess) return err;
  return finish_stream(nullptr);
}

// ---- kernel launches: checked against the limits, then queued like any device work

cudaError_t cudasim::launch_kernel(cudaStream_t stream, KernelLaunch launch) {
  DeviceLock lock(device_mutex());
  std::string why = check_launch_limits(launch);
  if (!why.empty())
    return refuse(cudaErrorInvalidConfiguration, "cudaLaunchKernel",
                  describe_launch(launch) + ": " + why);
  // a GPU faults when the kernel dereferences it (an illegal address, reported later)
  if (launch.host_pointer_argument >= 0)
    fatal(describe_launch(launch) + ": argument " + std::to_string(launch.host_pointer_argument) +
          " points into host memory that is not page-locked, which the device cannot reach");
  auto shared = std::make_shared<KernelLaunch>(std::move(launch));
  return enqueue(stream, Work{describe_launch(*shared), [shared] { run_kernel(*shared); }},
                 "cudaLaunchKernel");
}

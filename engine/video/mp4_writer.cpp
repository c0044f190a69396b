// mp4_writer.cpp: see mp4_writer.h.
#include "video/mp4_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/rational.h>
#include <libswscale/swscale.h>
}
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "sac/errors.h"

namespace sac {
namespace {

// the sonames of the headers this file is compiled with: a library of another major version
// has another ABI
#define SAC_SONAME(lib, major) "lib" lib ".so." AV_STRINGIFY(major)
constexpr const char* kLibraries[] = {
    SAC_SONAME("avutil", LIBAVUTIL_VERSION_MAJOR), SAC_SONAME("swscale", LIBSWSCALE_VERSION_MAJOR),
    SAC_SONAME("avcodec", LIBAVCODEC_VERSION_MAJOR),
    SAC_SONAME("avformat", LIBAVFORMAT_VERSION_MAJOR)};
constexpr const char* kPackages =
    "install libavformat59, libavcodec59 (with libx264), libswscale6 and libavutil57";

// FFmpeg's functions this writer calls, looked up once per process
struct Ffmpeg {
#define SAC_FFMPEG_FUNCTIONS(X)                                                                 \
  X(av_log_set_level) X(av_d2q) X(av_strerror) X(av_opt_set) X(av_frame_alloc)                 \
  X(av_frame_free) X(av_frame_get_buffer) X(av_frame_make_writable) X(sws_getContext)           \
  X(sws_scale) X(sws_freeContext) X(avcodec_find_encoder_by_name) X(avcodec_alloc_context3)     \
  X(avcodec_open2) X(avcodec_free_context) X(avcodec_send_frame) X(avcodec_receive_packet)      \
  X(avcodec_parameters_from_context) X(av_packet_alloc) X(av_packet_free) X(av_packet_unref)    \
  X(av_packet_rescale_ts) X(avformat_alloc_output_context2) X(avformat_new_stream)              \
  X(avformat_free_context) X(avformat_write_header) X(av_interleaved_write_frame)               \
  X(av_write_trailer) X(avio_open) X(avio_closep)
#define SAC_DECLARE(name) decltype(&::name) name = nullptr;
  SAC_FFMPEG_FUNCTIONS(SAC_DECLARE)
#undef SAC_DECLARE
  std::string error;  // empty when everything loaded

  Ffmpeg() {
    std::vector<void*> handles;
    for (const char* lib : kLibraries) {
      void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        error = std::string(lib) + " cannot be loaded (" + dlerror() + ")";
        return;
      }
      handles.push_back(h);
    }
    auto find = [&](const char* name) -> void* {
      for (void* h : handles)
        if (void* f = dlsym(h, name)) return f;
      if (error.empty()) error = std::string("FFmpeg's libraries lack ") + name;
      return nullptr;
    };
#define SAC_LOAD(name) name = reinterpret_cast<decltype(name)>(find(#name));
    SAC_FFMPEG_FUNCTIONS(SAC_LOAD)
#undef SAC_LOAD
    if (error.empty()) av_log_set_level(AV_LOG_ERROR);  // no encoder statistics on stderr
  }
};

const Ffmpeg& ffmpeg() {
  static const Ffmpeg f;
  return f;
}

const Ffmpeg& loaded_ffmpeg() {
  const Ffmpeg& f = ffmpeg();
  if (!f.error.empty())
    throw InputError("cannot write MP4 video: " + f.error + "; " + kPackages);
  if (!f.avcodec_find_encoder_by_name("libx264"))
    throw InputError("cannot write MP4 video: FFmpeg's libavcodec has no H.264 encoder "
                     "(libx264); install a libavcodec built with libx264 (Debian's is)");
  return f;
}

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  ffmpeg().av_strerror(code, buf, sizeof buf);
  return buf;
}

}  // namespace

struct Mp4Writer::Codec {
  const Ffmpeg& f;
  AVFormatContext* format = nullptr;
  AVCodecContext* context = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* scale = nullptr;
  bool io_open = false;

  explicit Codec(const Ffmpeg& ff) : f(ff) {}
  ~Codec() {
    if (scale) f.sws_freeContext(scale);
    if (packet) f.av_packet_free(&packet);
    if (frame) f.av_frame_free(&frame);
    if (context) f.avcodec_free_context(&context);
    if (format) {
      if (io_open) f.avio_closep(&format->pb);
      f.avformat_free_context(format);
    }
  }
};

void Mp4Writer::check_available() { loaded_ffmpeg(); }

Mp4Writer::Mp4Writer(const std::string& path, int width, int height, double frame_seconds,
                     int threads)
    : m_path(path), m_tmp(path + ".tmp"), m_width(width), m_height(height) {
  const Ffmpeg& f = loaded_ffmpeg();
  if (width % 2 || height % 2)
    throw InputError("video size " + std::to_string(width) + "x" + std::to_string(height) +
                     " must be even in both directions (H.264 4:2:0)");
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InputError("--video '" + path + "' is a directory");
  m_codec = std::make_unique<Codec>(f);
  Codec& c = *m_codec;
  if (f.avformat_alloc_output_context2(&c.format, nullptr, "mp4", m_tmp.c_str()) < 0 || !c.format)
    throw std::runtime_error("FFmpeg has no MP4 muxer");
  const AVCodec* h264 = f.avcodec_find_encoder_by_name("libx264");
  c.context = f.avcodec_alloc_context3(h264);
  c.stream = f.avformat_new_stream(c.format, nullptr);
  c.frame = f.av_frame_alloc();
  c.packet = f.av_packet_alloc();
  if (!c.context || !c.stream || !c.frame || !c.packet)
    throw std::runtime_error("FFmpeg could not allocate an encoder");

  // one tick per frame: the frame's duration as a fraction (HalfCheetah 1/20 s, Humanoid 3/200 s)
  AVCodecContext* ctx = c.context;
  ctx->width = width;
  ctx->height = height;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = f.av_d2q(frame_seconds, 1 << 20);
  ctx->framerate = AVRational{ctx->time_base.den, ctx->time_base.num};
  ctx->thread_count = threads;
  if (c.format->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  f.av_opt_set(ctx->priv_data, "preset", "veryfast", 0);
  f.av_opt_set(ctx->priv_data, "crf", "23", 0);
  int err = f.avcodec_open2(ctx, h264, nullptr);
  if (err < 0) throw std::runtime_error("cannot open the H.264 encoder: " + av_error(err));
  if ((err = f.avcodec_parameters_from_context(c.stream->codecpar, ctx)) < 0)
    throw std::runtime_error("cannot set the MP4 stream: " + av_error(err));
  c.stream->time_base = ctx->time_base;
  c.stream->avg_frame_rate = ctx->framerate;

  c.frame->format = ctx->pix_fmt;
  c.frame->width = width;
  c.frame->height = height;
  if ((err = f.av_frame_get_buffer(c.frame, 0)) < 0)
    throw std::runtime_error("cannot allocate a video frame: " + av_error(err));
  c.scale = f.sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC, nullptr, nullptr, nullptr);
  if (!c.scale) throw std::runtime_error("FFmpeg has no RGB to YUV 4:2:0 conversion");

  if ((err = f.avio_open(&c.format->pb, m_tmp.c_str(), AVIO_FLAG_WRITE)) < 0)
    throw InputError("cannot write --video file '" + path + "' (" + m_tmp + "): " +
                     av_error(err));
  c.io_open = true;
  if ((err = f.avformat_write_header(c.format, nullptr)) < 0)
    throw std::runtime_error("cannot write the MP4 header of '" + m_tmp + "': " + av_error(err));
}

Mp4Writer::~Mp4Writer() {
  m_codec.reset();  // closes the file first
  if (!m_finished) std::remove(m_tmp.c_str());
}

void Mp4Writer::add_frame(const uint8_t* rgb_bottom_up) {
  const Ffmpeg& f = m_codec->f;
  Codec& c = *m_codec;
  int err = f.av_frame_make_writable(c.frame);
  if (err < 0) throw std::runtime_error("cannot reuse the video frame: " + av_error(err));
  // the last row first: a negative stride turns the bottom-up image upright
  const int stride = 3 * m_width;
  const uint8_t* rows[1] = {rgb_bottom_up + (size_t)(m_height - 1) * stride};
  const int strides[1] = {-stride};
  f.sws_scale(c.scale, rows, strides, 0, m_height, c.frame->data, c.frame->linesize);
  c.frame->pts = m_frames++;
  if ((err = f.avcodec_send_frame(c.context, c.frame)) < 0)
    throw std::runtime_error("cannot encode frame " + std::to_string(m_frames - 1) + " of '" +
                             m_tmp + "': " + av_error(err));
  drain();
}

// writes the packets the encoder has ready
void Mp4Writer::drain() {
  const Ffmpeg& f = m_codec->f;
  Codec& c = *m_codec;
  for (;;) {
    int err = f.avcodec_receive_packet(c.context, c.packet);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
    if (err < 0) throw std::runtime_error("H.264 encoding failed: " + av_error(err));
    f.av_packet_rescale_ts(c.packet, c.context->time_base, c.stream->time_base);
    c.packet->stream_index = c.stream->index;
    err = f.av_interleaved_write_frame(c.format, c.packet);  // takes the packet's data
    if (err < 0)
      throw std::runtime_error("cannot write '" + m_tmp + "': " + av_error(err));
    if (c.format->pb->error < 0)  // a failed write (disk full) shows only here
      throw std::runtime_error("cannot write '" + m_tmp + "': " + av_error(c.format->pb->error));
  }
}

void Mp4Writer::finish() {
  const Ffmpeg& f = m_codec->f;
  Codec& c = *m_codec;
  int err = f.avcodec_send_frame(c.context, nullptr);  // flush
  if (err < 0) throw std::runtime_error("cannot flush the H.264 encoder: " + av_error(err));
  drain();
  if ((err = f.av_write_trailer(c.format)) < 0)
    throw std::runtime_error("cannot write the MP4 index of '" + m_tmp + "': " + av_error(err));
  // avio reports a failed write (disk full) only through the context's error field
  if (c.format->pb->error < 0)
    throw std::runtime_error("cannot write '" + m_tmp + "': " + av_error(c.format->pb->error));
  c.io_open = false;
  if ((err = f.avio_closep(&c.format->pb)) < 0)
    throw std::runtime_error("cannot write '" + m_tmp + "': " + av_error(err));
  int fd = open(m_tmp.c_str(), O_RDONLY);
  bool synced = fd >= 0 && fsync(fd) == 0;
  int sync_errno = errno;
  if (fd >= 0) close(fd);
  if (!synced)
    throw std::runtime_error("cannot fsync '" + m_tmp + "': " + std::strerror(sync_errno));
  if (std::rename(m_tmp.c_str(), m_path.c_str()) != 0)
    throw std::runtime_error("cannot rename '" + m_tmp + "' to '" + m_path + "': " +
                             std::strerror(errno));
  m_finished = true;
}

}  // namespace sac

// video_decode.h: reads an MP4 back with FFmpeg's libavformat/libavcodec (linked directly into
// the tests and the frame tool): every frame of its first video stream as RGB, top row first,
// with the stream's frame rate. What tests/test_video.cpp checks videos with, and what
// bench/video_frame_png.cpp turns into a PNG.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sac {
namespace test {

struct DecodedVideo {
  int width = 0, height = 0;
  double fps = 0;             // the stream's average frame rate
  std::string codec;          // e.g. "h264"
  std::vector<std::vector<uint8_t>> frames;  // width x height x 3 RGB each, top row first
};

/// Decodes every frame of `path`; throws std::runtime_error when it cannot.
inline DecodedVideo decode_video(const std::string& path) {
  DecodedVideo v;
  AVFormatContext* format = nullptr;
  if (avformat_open_input(&format, path.c_str(), nullptr, nullptr) < 0)
    throw std::runtime_error("cannot open '" + path + "'");
  struct Cleanup {
    AVFormatContext** f;
    AVCodecContext* c = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* packet = nullptr;
    SwsContext* sws = nullptr;
    ~Cleanup() {
      if (sws) sws_freeContext(sws);
      av_packet_free(&packet);
      av_frame_free(&frame);
      avcodec_free_context(&c);
      avformat_close_input(f);
    }
  } k{&format};
  if (avformat_find_stream_info(format, nullptr) < 0)
    throw std::runtime_error("no stream info in '" + path + "'");
  const AVCodec* codec = nullptr;
  int stream = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream < 0 || !codec) throw std::runtime_error("no video stream in '" + path + "'");
  AVStream* st = format->streams[stream];
  v.fps = av_q2d(st->avg_frame_rate);
  v.codec = codec->name;
  k.c = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(k.c, st->codecpar);
  k.c->thread_count = 1;
  if (avcodec_open2(k.c, codec, nullptr) < 0) throw std::runtime_error("cannot open decoder");
  v.width = k.c->width;
  v.height = k.c->height;
  k.frame = av_frame_alloc();
  k.packet = av_packet_alloc();
  auto take = [&] {
    while (avcodec_receive_frame(k.c, k.frame) == 0) {
      if (!k.sws)
        k.sws = sws_getContext(v.width, v.height, (AVPixelFormat)k.frame->format, v.width,
                               v.height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr);
      // swscale writes whole SIMD blocks: a padded, aligned row stride, then packed rows
      const int row = 3 * v.width, stride = (row + 63) / 64 * 64;
      std::vector<uint8_t> padded((size_t)stride * (v.height + 1) + 64);
      uint8_t* dst[1] = {padded.data()};
      int dst_stride[1] = {stride};
      sws_scale(k.sws, k.frame->data, k.frame->linesize, 0, v.height, dst, dst_stride);
      std::vector<uint8_t> rgb((size_t)row * v.height);
      for (int y = 0; y < v.height; ++y)
        std::copy(padded.begin() + (size_t)y * stride, padded.begin() + (size_t)y * stride + row,
                  rgb.begin() + (size_t)y * row);
      v.frames.push_back(std::move(rgb));
    }
  };
  while (av_read_frame(format, k.packet) >= 0) {
    if (k.packet->stream_index == stream) avcodec_send_packet(k.c, k.packet);
    av_packet_unref(k.packet);
    take();
  }
  avcodec_send_packet(k.c, nullptr);
  take();
  return v;
}

}  // namespace test
}  // namespace sac

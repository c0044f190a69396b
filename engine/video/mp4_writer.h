// mp4_writer.h: H.264 MP4 files from RGB frames, with FFmpeg's libraries (libavformat,
// libavcodec with libx264, libswscale, libavutil; no external process). The libraries are
// loaded at run time (dlopen, by the sonames of the headers this was compiled with), so `sac`
// links none of them and commands that write no video never load them. The file is written to
// PATH.tmp and renamed to PATH only once complete (fsynced): a failed or abandoned encode
// removes its partial file and never touches an existing PATH.
// Tested by tests/test_video.cpp (decoded back with libavformat).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace sac {

class Mp4Writer {
 public:
  /// Checks that FFmpeg and its H.264 encoder load and that PATH.tmp can be created, and opens
  /// it: frames of width x height (even, as 4:2:0 needs), one every `frame_seconds` of video
  /// time. `threads`: encoder threads (0: FFmpeg's choice). Throws InputError naming what is
  /// missing or the path that cannot be written.
  Mp4Writer(const std::string& path, int width, int height, double frame_seconds,
            int threads = 0);
  /// Removes PATH.tmp when finish() did not complete.
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  /// Encodes one frame: width x height x 3 bytes of RGB, rows bottom-up (as glReadPixels and
  /// mjr_readPixels give them). Throws std::runtime_error when encoding or writing fails.
  void add_frame(const uint8_t* rgb_bottom_up);

  /// Flushes the encoder, writes the MP4 index, fsyncs and renames PATH.tmp to PATH. Throws
  /// std::runtime_error (the partial file removed) when any of it fails.
  void finish();

  int64_t frames() const { return m_frames; }
  const std::string& path() const { return m_path; }

  /// Checks that FFmpeg's libraries and an H.264 encoder are there; throws InputError if not.
  static void check_available();

 private:
  struct Codec;  // FFmpeg's objects
  void drain();

  std::string m_path, m_tmp;
  int m_width, m_height;
  int64_t m_frames = 0;
  bool m_finished = false;
  std::unique_ptr<Codec> m_codec;
};

}  // namespace sac

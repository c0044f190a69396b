// video_frame_png.cpp: writes frame K of an MP4 (decoded with libavformat, tests/video_decode.h)
// as a PNG (lodepng, which MuJoCo's Debian package already depends on). Used to put still frames
// of `sac rollout --video` into bench/results/ (see README, "Videos").
//   sac_video_frame_png VIDEO.mp4 K OUT.png
#include <lodepng.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "video_decode.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: sac_video_frame_png VIDEO.mp4 FRAME OUT.png\n");
    return 2;
  }
  try {
    sac::test::DecodedVideo v = sac::test::decode_video(argv[1]);
    const long k = std::atol(argv[2]);
    if (k < 0 || k >= (long)v.frames.size()) {
      std::fprintf(stderr, "frame %ld of %zu does not exist\n", k, v.frames.size());
      return 2;
    }
    unsigned err = lodepng_encode24_file(argv[3], v.frames[k].data(), v.width, v.height);
    if (err) {
      std::fprintf(stderr, "cannot write %s: %s\n", argv[3], lodepng_error_text(err));
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

// replay_main.cpp: a fuzz target's inputs through the normal build (gcc, the sanitize build's
// ASan and UBSan) without libFuzzer: each file named, or each file in each folder named, is
// given once to the target's LLVMFuzzerTestOneInput, which aborts on a wrong answer (see
// fuzz_common.h). The ctests fuzz_replay.<target> run it on the target's corpus and its kept
// crash inputs (regressions/), so every bug the fuzzers found stays a test of the normal suite.
// Run: build/fuzz_replay_config tests/fuzz/corpus/config tests/fuzz/regressions/config
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// the files of `path`: itself when it is a file, its entries (sorted) when it is a folder
std::vector<std::string> files_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return {};
  if (!S_ISDIR(st.st_mode)) return {path};
  std::vector<std::string> out;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (const dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') out.push_back(path + "/" + e->d_name);
    ::closedir(dir);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::vector<std::string> files = files_of(argv[i]);
    if (files.empty()) {
      std::fprintf(stderr, "replay: '%s' is not a file or a folder with inputs\n", argv[i]);
      return 2;
    }
    for (const std::string& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "replay: cannot read '%s'\n", file.c_str());
        return 2;
      }
      // on an abort, the last line printed names the input
      std::fprintf(stderr, "replay: %s\n", file.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::printf("replayed %zu inputs, each accepted or refused cleanly\n", replayed);
  return 0;
}

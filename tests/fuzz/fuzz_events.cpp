// fuzz_events.cpp: libFuzzer target of the TensorBoard event files a resumed run reads and
// trims (keep_events, run/run_directory.cpp): TFRecord framing (length, masked CRC32C of length
// and data), Event messages (protobuf), and the records kept, as kept_event_records() computes
// them from a file's bytes. Reading never throws on content: it stops at the first incomplete
// or corrupt record. The kept bytes must themselves read as the kept events (what the resumed
// run then appends to).
// Run: build-fuzz/fuzz_events tests/fuzz/corpus/events
#include <string>

#include "formats/event_file.h"
#include "formats/tfrecord.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  bool complete = false;
  const std::vector<std::string> records = sac::read_tfrecords(bytes, &complete);
  const std::vector<sac::ScalarEvent> events = sac::parse_event_records(bytes);
  if (events.size() > records.size()) sac::fuzz::fail("more events than records", "");
  // a resume at step 100, as RunDirectory trims: train events to step 100, eval events to 50
  auto keep = [](const sac::ScalarEvent& e) {
    const bool eval = !e.scalars.empty() && e.scalars.front().first.rfind("eval/", 0) == 0;
    return e.step <= (eval ? 50 : 100);
  };
  const std::string kept = sac::kept_event_records(bytes, keep);
  const std::vector<sac::ScalarEvent> back = sac::parse_event_records(kept);
  size_t expected = 0;
  for (const sac::ScalarEvent& e : events) expected += !e.file_version.empty() || keep(e);
  if (back.size() != expected) sac::fuzz::fail("the kept bytes do not read as the kept events", "");
  if (sac::kept_event_records(kept, keep) != kept) sac::fuzz::fail("trimming twice changes the file", "");
  return 0;
}

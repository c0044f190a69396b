// test_quoted_text.cpp: file content in error messages goes through formats/quoted.h, so a
// refusal never carries the file's raw bytes (invalid UTF-8, terminal escapes, line breaks):
// the helper itself, then a config, a safetensors header and an eval.csv holding such bytes,
// refused with their bytes escaped (in the library and on `sac`'s stderr, exit 2).
// Run: sac_tests --gtest_filter='QuotedText*'
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "formats/eval_csv.h"
#include "formats/quoted.h"
#include "sac/config.h"
#include "sac/env.h"
#include "sac/safetensors.h"
#include "test_files.h"

namespace sac {
namespace {

// true when `s` holds only printable ASCII and line breaks
bool printable_ascii(const std::string& s) {
  for (unsigned char ch : s)
    if ((ch < 0x20 && ch != '\n') || ch >= 0x7f) return false;
  return true;
}

// the message of the InputError `f` throws ("" when it throws none)
template <typename F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(QuotedText, EscapesEveryByteOutsidePrintableAscii) {
  EXPECT_EQ(escaped_text("plain text, 1.5"), "plain text, 1.5");
  EXPECT_EQ(escaped_text(std::string("a\xff" "b\x1b[31m\x7f", 9)), "a\\xffb\\x1b[31m\\x7f");
  EXPECT_EQ(escaped_text("line\nnext\r\ttab"), "line\\nnext\\r\\ttab");
  EXPECT_EQ(escaped_text(std::string("\0\\", 2)), "\\x00\\");
  EXPECT_EQ(escaped_text("caf\xc3\xa9"), "caf\\xc3\\xa9");  // valid UTF-8 is escaped as well
  EXPECT_EQ(quoted_text("it's"), "'it\\x27s'");
  // JSON values: JSON's own escapes, DEL and non-ASCII included
  EXPECT_EQ(json_text(nlohmann::json("a\x7f\x1b\xc3\xa9")), "\"a\\u007f\\u001b\\u00e9\"");
  EXPECT_EQ(json_text(nlohmann::json::parse("[1, 2.5, true]")), "[1,2.5,true]");
}

TEST(QuotedText, CutsLongTextAndSaysHowLong) {
  const std::string long_text(1000, 'x');
  EXPECT_EQ(escaped_text(long_text, 4), "xxxx... (1000 bytes)");
  EXPECT_EQ(quoted_text(long_text).size(), 120 + std::string("''... (1000 bytes)").size());
  EXPECT_EQ(quoted_text("short", 5), "'short'");
}

TEST(QuotedText, AConfigWithAnInvalidUtf8ByteIsRefusedWithoutTheByte) {
  const std::string text = "{\"env\": {\"id\": \"Pendulum-v1\xff\"}}";
  const std::string what = refusal([&] { config_from_json_text(text, "bad.json"); });
  EXPECT_NE(what.find("bad.json: malformed JSON"), std::string::npos) << what;
  EXPECT_NE(what.find("\\xff"), std::string::npos) << what;
  EXPECT_TRUE(printable_ascii(what)) << what;

  // on the command line: exit 2, the byte escaped on stderr
  const std::string path = testing::TempDir() + "sac_bad_utf8_" + std::to_string(::getpid()) + ".json";
  test::write_file(path, text);
  test::CliRun run = test::run_sac("config show " + path);
  ::unlink(path.c_str());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("malformed JSON"), std::string::npos) << run.output;
  EXPECT_TRUE(printable_ascii(run.output)) << run.output;
}

TEST(QuotedText, AnOverrideWhoseRawTextIsNotUtf8IsRefusedWithoutTheByte) {
  // a value that is not JSON is kept as text: as a keyword argument and as a config value
  for (const std::string assignment :
       {std::string("env.kwargs.ctrl_cost_weight=\xcf\xcf"), std::string("env.id=Hopper\xff"),
        std::string("env.kwargs.\xc0\xaf=1"), std::string("env.id=\xed\xa0\x80")}) {
    Config c;
    const std::string what = refusal([&] { apply_override(c, assignment); });
    EXPECT_NE(what.find("is not valid UTF-8 text"), std::string::npos) << what;
    EXPECT_TRUE(printable_ascii(what)) << what;
    EXPECT_EQ(c.to_json(), Config().to_json()) << "a refused override changed the config";
  }
  // valid UTF-8 text stays a value (refused later by validation as an unknown task, quoted)
  Config c;
  apply_override(c, "env.id=Hopper\xc3\xa9");
  EXPECT_EQ(c.env_id, "Hopper\xc3\xa9");
  EXPECT_TRUE(is_valid_utf8("plain") && is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(QuotedText, AnUnreadableConfigPathIsQuoted) {
  const std::string what = refusal([&] { load_config("configs/none\x1b[2J.json", {}); });
  EXPECT_NE(what.find("cannot read config file 'configs/none\\x1b[2J.json'"), std::string::npos)
      << what;
}

TEST(QuotedText, ATaskKeywordValueIsShownEscaped) {
  // a model name with DEL (fuzz_env_kwargs' first find), a key and a body name with escapes
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"xml_file", "half\x7f" "cheetah.xml"}}, "xml_file 'half\\x7fcheetah.xml'"},
      {{{"bogus\x1b[2J", 1}}, "takes no keyword 'bogus\\x1b[2J'"},
      {{{"main_body", "torso\x07"}}, "no body named 'torso\\x07'"},
      {{{"ctrl_cost_weight", "w\x7f"}}, "got \"w\\u007f\""},
  };
  for (const auto& [kwargs, expected] : cases) {
    const std::string what = refusal([&] { make_env("Ant-v5", kwargs); });
    EXPECT_NE(what.find(expected), std::string::npos) << what;
    EXPECT_TRUE(printable_ascii(what)) << what;
  }
}

TEST(QuotedText, AModelFileThatIsNotARegularFileIsRefusedBeforeMujocoReadsIt) {
  // a named pipe blocked the load for good (its open waits for a writer); a device and a
  // folder are refused the same way
  const std::string fifo = testing::TempDir() + "sac_fifo_" + std::to_string(::getpid()) + ".xml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero"), std::string("/tmp")}) {
    const std::string what = refusal([&] { make_env("Ant-v5", {{"xml_file", path}}); });
    EXPECT_NE(what.find("xml_file '" + path + "': not a regular file"), std::string::npos) << what;
  }
  ::unlink(fifo.c_str());
}

TEST(QuotedText, AnUnknownKeyWithATerminalEscapeIsShownEscaped) {
  // valid JSON: the escape character arrives as \u001b and is a real ESC byte once parsed
  const std::string what =
      refusal([] { config_from_json_text("{\"sac\": {\"\\u001b[2Jx\": 1}}", "esc.json"); });
  EXPECT_NE(what.find("unknown config key 'sac.\\x1b[2Jx'"), std::string::npos) << what;
  EXPECT_TRUE(printable_ascii(what)) << what;
}

TEST(QuotedText, ASafetensorsEntryNameIsShownEscaped) {
  const std::string header = "{\"a\\u0007\\nb\": {\"dtype\": \"F16\", \"shape\": [], "
                             "\"data_offsets\": [0, 0]}}";
  std::string file(8, '\0');
  file[0] = (char)header.size();
  file += header;
  const std::string what = refusal([&] { SafetensorsFile::parse(file, "x.safetensors"); });
  EXPECT_NE(what.find("entry 'a\\x07\\nb': unsupported dtype 'F16'"), std::string::npos) << what;
  EXPECT_TRUE(printable_ascii(what)) << what;
}

TEST(QuotedText, AnEvalCsvFieldIsShownEscaped) {
  const std::string what = refusal([] {
    parse_eval_csv("step,wall_seconds,mean_return\n1\x1b,0.5,-3\n", "run/eval.csv");
  });
  EXPECT_NE(what.find("line 2: step '1\\x1b' is not a non-negative integer"), std::string::npos)
      << what;
  EXPECT_TRUE(printable_ascii(what)) << what;
}

}  // namespace
}  // namespace sac

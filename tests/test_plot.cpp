// test_plot.cpp: `sac plot` (engine/cli/plot.cpp), called in process through sac::plot_main on fake
// run directories (config.json + eval.csv) made in a temp folder:
//   - three runs give an SVG with the mean polyline (one point per eval row), the band polygon,
//     the task title and a <desc> JSON block whose mean/min/max equal those of the runs
//   - runs at different steps are interpolated onto the union grid within the common range
//   - bad input throws ConfigError naming the problem and writes no file
// Run: sac_tests --gtest_filter='*Plot*'
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "sac/config.h"
#include "test_files.h"

namespace sac {
namespace {

using json = nlohmann::json;
using test::path_exists;
using test::read_file;
using test::TempDir;
using test::write_file;

// one evaluation row of a fake run
struct Row {
  int64_t step;
  double wall, ret;
};

// a run directory as the trainer leaves it (the parts `sac plot` reads)
std::string make_run(const TempDir& tmp, const std::string& name, const std::string& task, int seed,
                     const std::vector<Row>& rows) {
  std::string dir = tmp / name;
  std::filesystem::create_directories(dir);
  json config = {{"env", {{"id", task}}}, {"train", {{"seed", seed}}}};
  write_file(dir + "/config.json", config.dump(2) + "\n");
  std::ostringstream csv;
  csv.precision(17);
  csv << "step,wall_seconds,mean_return,min_return,max_return,episodes\n";
  for (const Row& r : rows)
    csv << r.step << "," << r.wall << "," << r.ret << "," << r.ret - 10 << "," << r.ret + 10 << ",10\n";
  write_file(dir + "/eval.csv", csv.str());
  return dir;
}

// three seeds of a learning curve evaluated every 20k steps
std::vector<std::vector<Row>> three_runs() {
  std::vector<std::vector<Row>> runs(3);
  for (int s = 0; s < 3; ++s)
    for (int i = 1; i <= 6; ++i)
      runs[s].push_back({20000 * i, 31.5 * i + 2.0 * s, 400.0 * i + 150.0 * s * (i % 2 ? 1 : -1) - 20 * s});
  return runs;
}

// runs plot_main, returning its stdout line parsed
json plot(const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  int rc = -1;
  try {
    rc = plot_main(args);
  } catch (...) {
    ::testing::internal::GetCapturedStdout();
    throw;
  }
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  return json::parse(out);
}

// the ConfigError message of a failing call ("" when none was thrown)
std::string plot_error(const std::vector<std::string>& args) {
  ::testing::internal::CaptureStdout();
  std::string msg;
  try {
    plot_main(args);
  } catch (const ConfigError& e) {
    msg = e.what();
  } catch (const std::exception& e) {
    msg = std::string("not a ConfigError: ") + e.what();
  }
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, "") << "a failing plot printed a result";
  return msg;
}

// the value of attribute `name` of the first element <tag ... id="id" ...>
std::string attribute(const std::string& svg, const std::string& tag, const std::string& id,
                      const std::string& name) {
  size_t at = svg.find("<" + tag + " id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  size_t end = svg.find('>', at);
  size_t a = svg.find(" " + name + "=\"", at);
  if (a == std::string::npos || a > end) return "";
  a += name.size() + 3;
  return svg.substr(a, svg.find('"', a) - a);
}

std::vector<std::pair<double, double>> points(const std::string& list) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(list);
  std::string pair;
  while (in >> pair) {
    size_t comma = pair.find(',');
    out.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return out;
}

std::string xml_unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += std::strlen(to))
      s.replace(at, std::strlen(from), to);
  return s;
}

// the JSON data block the SVG carries
json svg_data(const std::string& svg) {
  const std::string open = "<desc id=\"sac-plot-data\">";
  size_t a = svg.find(open);
  if (a == std::string::npos) return json();
  a += open.size();
  return json::parse(xml_unescape(svg.substr(a, svg.find("</desc>", a) - a)));
}

void expect_near_rel(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-9 * (1.0 + std::fabs(want))) << what;
}

TEST(Plot, ThreeRunsGiveMeanBandAndTitle) {
  TempDir tmp("sac_plot");
  auto rows = three_runs();
  std::vector<std::string> args;
  for (int s = 0; s < 3; ++s) args.push_back(make_run(tmp, "run" + std::to_string(s), "Hopper-v5", s + 1, rows[s]));
  std::string svg_path = tmp / "curves.svg";
  args.insert(args.end(), {"-o", svg_path});
  json out = plot(args);

  // the summary line
  EXPECT_EQ(out["svg"], svg_path);
  EXPECT_EQ(out["runs"], 3);
  EXPECT_EQ(out["points"], 6);
  double final_mean = (rows[0][5].ret + rows[1][5].ret + rows[2][5].ret) / 3;
  expect_near_rel(out["final_mean_return"].get<double>(), final_mean, "final_mean_return");

  // the document and its elements
  std::string svg = read_file(svg_path);
  ASSERT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 80);
  std::string trimmed = svg.substr(0, svg.find_last_not_of(" \n") + 1);
  EXPECT_EQ(trimmed.substr(trimmed.size() - 6), "</svg>");
  EXPECT_NE(svg.find("Hopper-v5, 3 seeds"), std::string::npos);
  EXPECT_NE(svg.find("mean over 3 runs"), std::string::npos);
  EXPECT_NE(svg.find("min-max over runs"), std::string::npos);
  EXPECT_NE(svg.find("environment steps"), std::string::npos);
  EXPECT_NE(svg.find("wall time"), std::string::npos);
  EXPECT_FALSE(path_exists(svg_path + ".tmp"));
  for (const std::string panel : {"steps", "wall"}) {
    auto mean = points(attribute(svg, "polyline", "mean-" + panel, "points"));
    auto band = points(attribute(svg, "polygon", "band-" + panel, "points"));
    EXPECT_EQ(mean.size(), rows[0].size()) << panel;
    EXPECT_EQ(band.size(), 2 * rows[0].size()) << panel;
    // the mean lies inside the band (SVG y grows downwards), and x increases
    for (size_t p = 0; p < mean.size(); ++p) {
      EXPECT_LE(band[p].second, mean[p].second + 1e-9) << panel << " point " << p;
      EXPECT_GE(band[band.size() - 1 - p].second, mean[p].second - 1e-9) << panel << " point " << p;
      if (p) EXPECT_GT(mean[p].first, mean[p - 1].first) << panel;
    }
  }

  // the data block: the arithmetic mean, min and max over runs, and the mean wall time
  json data = svg_data(svg);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["task"], "Hopper-v5");
  EXPECT_EQ(data["interpolated"], false);
  ASSERT_EQ(data["runs"].size(), 3u);
  EXPECT_EQ(data["runs"][2]["seed"], 3);
  ASSERT_EQ(data["step"].size(), rows[0].size());
  for (size_t p = 0; p < rows[0].size(); ++p) {
    double sum = 0, wall = 0, lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < 3; ++s) {
      sum += rows[s][p].ret;
      wall += rows[s][p].wall;
      lo = std::min(lo, rows[s][p].ret);
      hi = std::max(hi, rows[s][p].ret);
      expect_near_rel(data["run_returns"][s][p].get<double>(), rows[s][p].ret, "run_returns");
    }
    EXPECT_EQ(data["step"][p].get<int64_t>(), rows[0][p].step);
    expect_near_rel(data["mean_return"][p].get<double>(), sum / 3, "mean_return");
    expect_near_rel(data["wall_seconds"][p].get<double>(), wall / 3, "wall_seconds");
    expect_near_rel(data["min_over_runs"][p].get<double>(), lo, "min_over_runs");
    expect_near_rel(data["max_over_runs"][p].get<double>(), hi, "max_over_runs");
  }

  // the plotted y-values map back linearly onto the data: the polyline's pixel y is an affine
  // function of mean_return (checked through the first, last and every other point)
  auto mean = points(attribute(svg, "polyline", "mean-steps", "points"));
  auto m = data["mean_return"];
  double a = (mean[5].second - mean[0].second) / (m[5].get<double>() - m[0].get<double>());
  for (size_t p = 0; p < mean.size(); ++p)
    EXPECT_NEAR(mean[p].second, mean[0].second + a * (m[p].get<double>() - m[0].get<double>()), 0.02);
}

TEST(Plot, TitleOptionIsEscaped) {
  TempDir tmp("sac_plot");
  auto rows = three_runs();
  std::string run = make_run(tmp, "run", "Pendulum-v1", 7, rows[0]);
  std::string svg_path = tmp / "one.svg";
  json out = plot({run, "--title", "A <b> & \"c\"", "-o", svg_path});
  EXPECT_EQ(out["runs"], 1);
  std::string svg = read_file(svg_path);
  EXPECT_NE(svg.find("A &lt;b&gt; &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("mean over 1 run"), std::string::npos);
  EXPECT_EQ(svg_data(svg)["title"], "A <b> & \"c\"");
}

TEST(Plot, DifferentStepGridsAreInterpolatedOnTheCommonRange) {
  TempDir tmp("sac_plot");
  // run a: every 10 steps from 10 to 50; run b: 20, 35, 60 (common range 20..50)
  std::string a = make_run(tmp, "a", "Hopper-v5", 1,
                           {{10, 1, 0}, {20, 2, 10}, {30, 3, 20}, {40, 4, 30}, {50, 5, 40}});
  std::string b = make_run(tmp, "b", "Hopper-v5", 2, {{20, 4, 100}, {35, 7, 250}, {60, 12, 500}});
  std::string svg_path = tmp / "interp.svg";
  json out = plot({a, b, "-o", svg_path});
  EXPECT_EQ(out["points"], 5);  // 20, 30, 35, 40, 50
  EXPECT_EQ(out["interpolated"], true);
  std::string svg = read_file(svg_path);
  EXPECT_NE(svg.find("<!-- the runs were evaluated at different steps"), std::string::npos);
  json data = svg_data(svg);
  EXPECT_EQ(data["step"], json({20, 30, 35, 40, 50}));
  // a at 35: 25; b at 30: 200, at 40: 250 + 5/25*250 = 300, at 50: 400
  std::vector<double> ra = {10, 20, 25, 30, 40}, rb = {100, 200, 250, 300, 400};
  std::vector<double> wa = {2, 3, 3.5, 4, 5}, wb = {4, 6, 7, 8, 10};
  for (size_t p = 0; p < 5; ++p) {
    expect_near_rel(data["mean_return"][p].get<double>(), (ra[p] + rb[p]) / 2, "mean_return");
    expect_near_rel(data["wall_seconds"][p].get<double>(), (wa[p] + wb[p]) / 2, "wall_seconds");
  }
  expect_near_rel(out["final_mean_return"].get<double>(), 220, "final_mean_return");
  EXPECT_EQ(points(attribute(svg, "polyline", "mean-steps", "points")).size(), 5u);
}

TEST(Plot, BadInputThrowsConfigErrorAndWritesNothing) {
  TempDir tmp("sac_plot");
  auto rows = three_runs();
  std::string good = make_run(tmp, "good", "Hopper-v5", 1, rows[0]);
  std::string other_task = make_run(tmp, "cheetah", "HalfCheetah-v5", 2, rows[1]);
  std::string no_eval = make_run(tmp, "no_eval", "Hopper-v5", 3, rows[2]);
  std::filesystem::remove(no_eval + "/eval.csv");
  std::string empty = make_run(tmp, "empty", "Hopper-v5", 4, rows[2]);
  write_file(empty + "/eval.csv", "");
  std::string header_only = make_run(tmp, "header_only", "Hopper-v5", 5, rows[2]);
  write_file(header_only + "/eval.csv", "step,wall_seconds,mean_return,min_return,max_return,episodes\n");
  std::string bad_value = make_run(tmp, "bad_value", "Hopper-v5", 6, rows[2]);
  write_file(bad_value + "/eval.csv",
        "step,wall_seconds,mean_return,min_return,max_return,episodes\n1000,1.5,12,1,2,10\n"
        "2000,3.0,abc,1,2,10\n");
  std::string bad_header = make_run(tmp, "bad_header", "Hopper-v5", 7, rows[2]);
  write_file(bad_header + "/eval.csv", "1000,1.5,12,1,2,10\n");
  std::string short_row = make_run(tmp, "short_row", "Hopper-v5", 8, rows[2]);
  write_file(short_row + "/eval.csv",
        "step,wall_seconds,mean_return,min_return,max_return,episodes\n1000,1.5,12\n");
  std::string no_config = make_run(tmp, "no_config", "Hopper-v5", 9, rows[2]);
  std::filesystem::remove(no_config + "/config.json");
  std::string bad_config = make_run(tmp, "bad_config", "Hopper-v5", 10, rows[2]);
  write_file(bad_config + "/config.json", "{\"env\": ");
  std::string disjoint = make_run(tmp, "disjoint", "Hopper-v5", 11, {{500000, 1, 1}, {600000, 2, 2}});
  std::string out = tmp / "out.svg";

  struct Case {
    std::vector<std::string> args;
    std::string message;  // a part of the expected message
  };
  const std::vector<Case> cases = {
      {{"-o", out}, "needs at least one run directory"},
      {{good}, "needs an output file: -o"},
      {{good, "-o"}, "option --output needs a value"},
      {{good, "--bogus", "-o", out}, "unknown option '--bogus'"},
      {{good, "-o", tmp / "missing_folder/out.svg"}, "does not exist"},
      {{good, "-o", tmp / "good"}, "is a directory"},
      {{tmp / "nowhere", "-o", out}, "'" + tmp / "nowhere" + "' does not exist"},
      {{good, good, "-o", out}, "is given twice"},
      {{good, no_eval, "-o", out}, "'" + no_eval + "' has no eval.csv"},
      {{good, empty, "-o", out}, "eval.csv' is empty"},
      {{header_only, "-o", out}, "eval.csv' holds no evaluations"},
      {{good, bad_value, "-o", out}, "eval.csv' is malformed: line 3: mean_return 'abc'"},
      {{bad_header, "-o", out}, "eval.csv' is malformed: line 1 must be the header"},
      {{short_row, "-o", out}, "eval.csv' is malformed: line 2 has 3 fields"},
      {{no_config, "-o", out}, "holds no config.json"},
      {{bad_config, "-o", out}, "config.json' is not valid JSON"},
      {{good, other_task, "-o", out}, "runs of different tasks cannot be plotted together"},
      {{good, disjoint, "-o", out}, "share no range of steps"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    std::string msg = plot_error(c.args);
    EXPECT_NE(msg, "") << "no error for: " << joined;
    EXPECT_NE(msg.find(c.message), std::string::npos)
        << "for: " << joined << "\nexpected a message with: " << c.message << "\ngot: " << msg;
    EXPECT_FALSE(path_exists(out)) << "an output was written for: " << joined;
    EXPECT_FALSE(path_exists(out + ".tmp")) << "a temp file was left for: " << joined;
  }
  // the different-task message names both tasks
  std::string msg = plot_error({good, other_task, "-o", out});
  EXPECT_NE(msg.find("Hopper-v5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HalfCheetah-v5"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sac

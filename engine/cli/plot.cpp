// plot.cpp: `sac plot RUN_DIR... -o curves.svg [--title T]`. Reads each run directory's
// config.json (env.id, train.seed) and eval.csv (step,wall_seconds,mean_return,...) and writes a
// self-contained SVG with two panels: evaluation return against environment steps (left) and
// against wall time (right). Each panel draws the mean over runs as a polyline and the min-max
// over runs as a band polygon. The right panel puts each point at the mean wall time of the runs
// at that step. Runs of different tasks are refused. The plotted numbers are also stored as
// JSON in the SVG's <desc id="sac-plot-data"> element (XML-escaped), for scripts:
//   {"task","title","interpolated","runs":[{"dir","seed"}],"step":[..],"wall_seconds":[..],
//    "mean_return":[..],"min_over_runs":[..],"max_over_runs":[..],"run_returns":[[..],..]}
// Runs evaluated at the same steps are used as they are. Runs evaluated at different steps are
// linearly interpolated (return and wall time) onto the union of their steps, restricted to the
// range every run covers; the SVG then says so in a comment and a note under the title.
// Summary on stdout: {"svg","runs","points","final_mean_return"}. Bad input throws ConfigError
// before anything is written; the SVG is written atomically.
// A run of several seeds (train.seeds in its config.json) stands for its seeds' folders
// (RUN_DIR/seed-<seed>), so `sac plot RUN_DIR` plots the whole set; a seed that diverged (its
// summary.json says so) is left out with a note on stderr.
// Tests: sac_tests --gtest_filter='*Plot*'
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/eval_csv.h"
#include "formats/whole_file.h"
#include "formats/path_checks.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "run/run_directory.h"
#include "sac/config.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

using json = nlohmann::json;

// the figure's geometry in SVG user units
constexpr double kWidth = 1000, kHeight = 430;
constexpr double kPanelLeft[2] = {80, 580};  // left edge of each panel's plot area
constexpr double kPanelWidth = 380, kPanelTop = 78, kPanelHeight = 280;
constexpr int kTargetTicks = 5;
constexpr double kReturnPad = 0.05;  // the return axis extends 5% beyond the band
constexpr const char* kColor = "#1f77b4";

// one run directory's evaluations
struct Run {
  std::string dir;
  std::string task;
  json seed;  // null when config.json has no train.seed
  std::vector<int64_t> step;
  std::vector<double> wall, ret;
};

// the data drawn: one value per grid step
struct Curves {
  std::vector<int64_t> step;
  std::vector<double> wall, mean, lo, hi;
  std::vector<std::vector<double>> per_run;  // [run][point]
  bool interpolated = false;
};

std::string read_text(const std::string& path) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) throw ConfigError("cannot read '" + path + "': " + std::strerror(errno));
  return *text;
}

// the output must go to a writable folder and not onto a folder
void check_output(const std::string& path) {
  if (is_directory(path)) throw ConfigError("output '" + path + "' is a directory; give a file name (-o FILE.svg)");
  std::string parent = std::filesystem::path(path).parent_path().string();
  if (parent.empty()) parent = ".";
  if (!is_directory(parent))
    throw ConfigError("cannot write output '" + path + "': folder '" + parent + "' does not exist");
  if (::access(parent.c_str(), W_OK) != 0)
    throw ConfigError("cannot write output '" + path + "': folder '" + parent + "' is not writable");
  if (path_exists(path) && ::access(path.c_str(), W_OK) != 0)
    throw ConfigError("cannot write output '" + path + "': the file is not writable");
}

// config.json: the task id (required) and the seed (optional, for the legend)
void read_config(Run& run) {
  std::string path = run.dir + "/config.json";
  if (!path_exists(path))
    throw ConfigError("run directory '" + run.dir + "' holds no config.json (not a run directory)");
  json j = json::parse(read_text(path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ConfigError("'" + path + "' is not valid JSON");
  if (!j.contains("env") || !j["env"].is_object() || !j["env"].contains("id") ||
      !j["env"]["id"].is_string())
    throw ConfigError("'" + path + "' has no env.id (not a sac run config)");
  run.task = j["env"]["id"].get<std::string>();
  if (j.contains("train") && j["train"].is_object() && j["train"].contains("seed"))
    run.seed = j["train"]["seed"];
}

// eval.csv (formats/eval_csv.h)
void read_eval(Run& run) {
  std::string path = run.dir + "/eval.csv";
  if (!path_exists(path))
    throw ConfigError("run directory '" + run.dir +
                      "' has no eval.csv (the run was not evaluated; see train.eval_every)");
  EvalRows rows = parse_eval_csv(read_text(path), path);
  run.step = std::move(rows.step);
  run.wall = std::move(rows.wall);
  run.ret = std::move(rows.ret);
}

// linear interpolation of (xs, ys) at x, with xs increasing and x within [xs.front(), xs.back()]
double interpolate(const std::vector<int64_t>& xs, const std::vector<double>& ys, int64_t x) {
  size_t i = std::lower_bound(xs.begin(), xs.end(), x) - xs.begin();
  if (i < xs.size() && xs[i] == x) return ys[i];
  double t = double(x - xs[i - 1]) / double(xs[i] - xs[i - 1]);
  return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}

// the runs on one step grid: their own when they share it, else the union of their steps within
// the common range, each run interpolated linearly onto it
Curves combine(const std::vector<Run>& runs) {
  Curves c;
  bool same = true;
  for (const Run& r : runs) same = same && r.step == runs[0].step;
  if (same) {
    c.step = runs[0].step;
  } else {
    int64_t lo = runs[0].step.front(), hi = runs[0].step.back();
    for (const Run& r : runs) lo = std::max(lo, r.step.front()), hi = std::min(hi, r.step.back());
    if (lo > hi)
      throw ConfigError("the runs' evaluations share no range of steps (latest first step " +
                        std::to_string(lo) + ", earliest last step " + std::to_string(hi) + ")");
    std::set<int64_t> grid;
    for (const Run& r : runs)
      for (int64_t s : r.step)
        if (s >= lo && s <= hi) grid.insert(s);
    c.step.assign(grid.begin(), grid.end());
    c.interpolated = true;
  }
  const size_t k = c.step.size(), n = runs.size();
  c.per_run.assign(n, std::vector<double>(k));
  c.wall.assign(k, 0.0);
  c.mean.assign(k, 0.0);
  c.lo.assign(k, 0.0);
  c.hi.assign(k, 0.0);
  for (size_t p = 0; p < k; ++p) {
    double wall_sum = 0, ret_sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < n; ++r) {
      double ret = same ? runs[r].ret[p] : interpolate(runs[r].step, runs[r].ret, c.step[p]);
      double wall = same ? runs[r].wall[p] : interpolate(runs[r].step, runs[r].wall, c.step[p]);
      c.per_run[r][p] = ret;
      wall_sum += wall;
      ret_sum += ret;
      lo = std::min(lo, ret);
      hi = std::max(hi, ret);
    }
    c.wall[p] = wall_sum / n;
    c.mean[p] = ret_sum / n;
    c.lo[p] = lo;
    c.hi[p] = hi;
  }
  return c;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// an axis with nice limits and ticks 1, 2 or 5 times a power of ten apart
struct Axis {
  double lo = 0, hi = 1, step = 1;
  double scale = 1;         // tick labels are value / scale with the suffix
  const char* suffix = "";  // "", "k" or "M"
  int decimals = 0;

  double frac(double v) const { return (v - lo) / (hi - lo); }
  std::vector<double> ticks() const {
    std::vector<double> t;
    double first = std::ceil(lo / step - 1e-9);
    for (int i = 0;; ++i) {
      double v = (first + i) * step;
      if (v > hi + step * 1e-6) break;
      t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    }
    return t;
  }
  std::string label(double v) const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f%s", decimals, v / scale, v == 0 ? "" : suffix);
    return buf;
  }
};

// an axis over [lo, hi], widened by `pad` of its span on each side, with ticks at the nice
// multiples inside it. `from_zero`: the axis starts at 0 when all values are positive.
// `k_from`: the magnitude from which labels are written in thousands.
Axis nice_axis(double lo, double hi, bool from_zero, double pad, double k_from) {
  if (from_zero && lo > 0) lo = 0;
  if (!(hi > lo)) {  // one value: a small range around it
    double d = hi != 0 ? std::fabs(hi) * 0.05 : 1.0;
    lo -= d;
    hi += d;
  }
  Axis a;
  double span = hi - lo;
  a.lo = from_zero && lo == 0 ? 0.0 : lo - pad * span;
  a.hi = hi + pad * span;
  double rough = (a.hi - a.lo) / kTargetTicks;
  double mag = std::pow(10.0, std::floor(std::log10(rough)));
  double f = rough / mag;
  a.step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  double big = std::max(std::fabs(a.lo), std::fabs(a.hi));
  if (big >= 1e6) a.scale = 1e6, a.suffix = "M";
  else if (big >= k_from) a.scale = 1e3, a.suffix = "k";
  a.decimals = std::max(0, (int)std::ceil(-std::log10(a.step / a.scale) - 1e-9));
  return a;
}

// one panel: frame, grid, ticks, axis titles, band and mean
void draw_panel(std::string& svg, const std::string& id, double left, const Axis& ax,
                const Axis& ay, const std::vector<double>& xs, const Curves& c,
                const std::string& x_title, const std::string& y_title) {
  const double top = kPanelTop, w = kPanelWidth, h = kPanelHeight;
  auto px = [&](double v) { return left + ax.frac(v) * w; };
  auto py = [&](double v) { return top + (1.0 - ay.frac(v)) * h; };
  svg += "<g id=\"panel-" + id + "\">\n";

  // grid lines and tick labels
  svg += "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (double t : ax.ticks())
    svg += "<line x1=\"" + fmt("%.2f", px(t)) + "\" y1=\"" + fmt("%.2f", top) + "\" x2=\"" +
           fmt("%.2f", px(t)) + "\" y2=\"" + fmt("%.2f", top + h) + "\"/>\n";
  for (double t : ay.ticks())
    svg += "<line x1=\"" + fmt("%.2f", left) + "\" y1=\"" + fmt("%.2f", py(t)) + "\" x2=\"" +
           fmt("%.2f", left + w) + "\" y2=\"" + fmt("%.2f", py(t)) + "\"/>\n";
  svg += "</g>\n<g class=\"ticks\" stroke=\"#333\" stroke-width=\"1\">\n";
  for (double t : ax.ticks())
    svg += "<line x1=\"" + fmt("%.2f", px(t)) + "\" y1=\"" + fmt("%.2f", top + h) + "\" x2=\"" +
           fmt("%.2f", px(t)) + "\" y2=\"" + fmt("%.2f", top + h + 5) + "\"/>\n";
  for (double t : ay.ticks())
    svg += "<line x1=\"" + fmt("%.2f", left - 5) + "\" y1=\"" + fmt("%.2f", py(t)) + "\" x2=\"" +
           fmt("%.2f", left) + "\" y2=\"" + fmt("%.2f", py(t)) + "\"/>\n";
  svg += "</g>\n<g class=\"tick-labels\" font-size=\"11\" fill=\"#333\">\n";
  for (double t : ax.ticks())
    svg += "<text x=\"" + fmt("%.2f", px(t)) + "\" y=\"" + fmt("%.2f", top + h + 18) +
           "\" text-anchor=\"middle\">" + ax.label(t) + "</text>\n";
  for (double t : ay.ticks())
    svg += "<text x=\"" + fmt("%.2f", left - 8) + "\" y=\"" + fmt("%.2f", py(t) + 4) +
           "\" text-anchor=\"end\">" + ay.label(t) + "</text>\n";
  svg += "</g>\n";

  // axis titles
  svg += "<text x=\"" + fmt("%.2f", left + w / 2) + "\" y=\"" + fmt("%.2f", top + h + 40) +
         "\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(x_title) + "</text>\n";
  double yx = left - 58, yy = top + h / 2;
  svg += "<text x=\"" + fmt("%.2f", yx) + "\" y=\"" + fmt("%.2f", yy) +
         "\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " + fmt("%.2f", yx) +
         " " + fmt("%.2f", yy) + ")\">" + xml_escape(y_title) + "</text>\n";

  // the band: max forwards, then min backwards
  std::string band, mean;
  for (size_t p = 0; p < xs.size(); ++p)
    band += fmt("%.2f", px(xs[p])) + "," + fmt("%.2f", py(c.hi[p])) + " ";
  for (size_t p = xs.size(); p-- > 0;)
    band += fmt("%.2f", px(xs[p])) + "," + fmt("%.2f", py(c.lo[p])) + " ";
  for (size_t p = 0; p < xs.size(); ++p)
    mean += (p ? " " : "") + fmt("%.2f", px(xs[p])) + "," + fmt("%.2f", py(c.mean[p]));
  band.pop_back();
  svg += "<polygon id=\"band-" + id + "\" class=\"band\" fill=\"" + kColor +
         "\" fill-opacity=\"0.25\" stroke=\"none\" points=\"" + band + "\"/>\n";
  svg += "<polyline id=\"mean-" + id + "\" class=\"mean\" fill=\"none\" stroke=\"" + kColor +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"" + mean + "\"/>\n";

  // the frame on top
  svg += "<rect x=\"" + fmt("%.2f", left) + "\" y=\"" + fmt("%.2f", top) + "\" width=\"" +
         fmt("%.2f", w) + "\" height=\"" + fmt("%.2f", h) +
         "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n</g>\n";
}

std::string render_svg(const std::vector<Run>& runs, const Curves& c, const std::string& title) {
  const size_t n = runs.size();

  // axes: steps from 0, wall time in s, min or h, returns around the band
  std::vector<double> steps(c.step.begin(), c.step.end());
  double wall_max = c.wall.back();
  double wall_scale = wall_max >= 7200 ? 3600 : wall_max >= 120 ? 60 : 1;
  std::string wall_unit = wall_scale == 3600 ? "h" : wall_scale == 60 ? "min" : "s";
  std::vector<double> walls;
  for (double w : c.wall) walls.push_back(w / wall_scale);
  double ret_lo = *std::min_element(c.lo.begin(), c.lo.end());
  double ret_hi = *std::max_element(c.hi.begin(), c.hi.end());
  Axis ax_steps = nice_axis(steps.front(), steps.back(), true, 0.0, 1e4);
  Axis ax_wall = nice_axis(walls.front(), walls.back(), true, 0.0, 1e5);
  Axis ay = nice_axis(ret_lo, ret_hi, false, kReturnPad, 1e5);

  // the data block for scripts
  json data = {{"task", runs[0].task}, {"title", title}, {"interpolated", c.interpolated},
               {"step", c.step}, {"wall_seconds", c.wall}, {"mean_return", c.mean},
               {"min_over_runs", c.lo}, {"max_over_runs", c.hi}, {"run_returns", c.per_run}};
  data["runs"] = json::array();
  for (const Run& r : runs) data["runs"].push_back({{"dir", r.dir}, {"seed", r.seed}});

  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", kWidth) +
         "\" height=\"" + fmt("%.0f", kHeight) + "\" viewBox=\"0 0 " + fmt("%.0f", kWidth) + " " +
         fmt("%.0f", kHeight) + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  svg += "<title>" + xml_escape(title) + "</title>\n";
  svg += "<desc id=\"sac-plot-data\">" + xml_escape(data.dump()) + "</desc>\n";
  if (c.interpolated)
    svg += "<!-- the runs were evaluated at different steps: each run's return and wall time are "
           "linearly interpolated onto the union of their steps, restricted to the range every "
           "run covers (" + std::to_string(c.step.front()) + " to " +
           std::to_string(c.step.back()) + ") -->\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";

  // title, legend, and the interpolation note
  svg += "<text x=\"" + fmt("%.1f", kWidth / 2) +
         "\" y=\"26\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">" +
         xml_escape(title) + "</text>\n";
  std::string seeds;
  for (const Run& r : runs)
    if (!r.seed.is_null()) seeds += (seeds.empty() ? "" : ", ") + r.seed.dump();
  double lx = kPanelLeft[0], ly = 52;
  svg += "<g class=\"legend\" font-size=\"12\">\n";
  svg += "<line x1=\"" + fmt("%.1f", lx) + "\" y1=\"" + fmt("%.1f", ly - 4) + "\" x2=\"" +
         fmt("%.1f", lx + 24) + "\" y2=\"" + fmt("%.1f", ly - 4) + "\" stroke=\"" + kColor +
         "\" stroke-width=\"2\"/>\n";
  svg += "<text x=\"" + fmt("%.1f", lx + 30) + "\" y=\"" + fmt("%.1f", ly) + "\">mean over " +
         std::to_string(n) + (n == 1 ? " run" : " runs") + "</text>\n";
  svg += "<rect x=\"" + fmt("%.1f", lx + 150) + "\" y=\"" + fmt("%.1f", ly - 10) +
         "\" width=\"24\" height=\"12\" fill=\"" + kColor + "\" fill-opacity=\"0.25\"/>\n";
  svg += "<text x=\"" + fmt("%.1f", lx + 180) + "\" y=\"" + fmt("%.1f", ly) +
         "\">min-max over runs</text>\n";
  if (!seeds.empty())
    svg += "<text x=\"" + fmt("%.1f", lx + 310) + "\" y=\"" + fmt("%.1f", ly) + "\" fill=\"#555\">" +
           (n == 1 ? "seed " : "seeds ") + xml_escape(seeds) + "</text>\n";
  svg += "</g>\n";
  if (c.interpolated)
    svg += "<text x=\"" + fmt("%.1f", kWidth - 20) + "\" y=\"" + fmt("%.1f", ly) +
           "\" text-anchor=\"end\" font-size=\"11\" fill=\"#a33\">runs evaluated at different "
           "steps: linearly interpolated</text>\n";

  // the two panels
  std::string y_title = "evaluation return";
  draw_panel(svg, "steps", kPanelLeft[0], ax_steps, ay, steps, c, "environment steps", y_title);
  draw_panel(svg, "wall", kPanelLeft[1], ax_wall, ay, walls, c,
             "wall time (" + wall_unit + ", mean over runs)", y_title);
  svg += "</svg>\n";
  return svg;
}

// `dir`, or the folders of its seeds when it is a run of several seeds (see the file comment)
std::vector<std::string> expand_seeds(const std::string& dir) {
  const std::string path = dir + "/config.json";
  json j = path_exists(path) ? json::parse(read_text(path), nullptr, false) : json();
  if (!j.is_object() || !j.contains("train") || !j["train"].is_object() ||
      !j["train"].contains("seeds") || !j["train"]["seeds"].is_array() ||
      j["train"]["seeds"].empty())
    return {dir};
  std::vector<std::string> seeds;
  for (const json& s : j["train"]["seeds"]) {
    if (!s.is_number_unsigned() && !s.is_number_integer())
      throw ConfigError("'" + path + "' has a train.seeds entry that is not a seed: " + s.dump());
    const std::string sd = seed_dir(dir, s.get<uint64_t>());
    json summary = path_exists(sd + "/summary.json")
                       ? json::parse(read_text(sd + "/summary.json"), nullptr, false)
                       : json();
    if (summary.is_object() && summary.contains("diverged")) {
      std::fprintf(stderr, "sac plot: seed %s of '%s' diverged (%s): left out\n",
                   s.dump().c_str(), dir.c_str(), summary["diverged"].dump().c_str());
      continue;
    }
    seeds.push_back(sd);
  }
  if (seeds.empty())
    throw ConfigError("every seed of the run in '" + dir + "' diverged: nothing to plot");
  return seeds;
}

}  // namespace

namespace {

struct PlotOptions {
  std::vector<std::string> dirs;
  std::string output, title;
  CLI::App* app = nullptr;
};

int plot_run(const PlotOptions& o) {
  // ---- arguments
  const std::vector<std::string>& dirs = o.dirs;
  const std::string& output = o.output;
  std::string title = o.title;
  const bool has_title = o.app->count("--title") > 0;
  if (dirs.empty())
    throw ConfigError("sac plot needs at least one run directory (usage: sac plot RUN_DIR... -o FILE.svg)");
  if (output.empty()) throw ConfigError("sac plot needs an output file: -o FILE.svg");
  check_output(output);

  // ---- the runs, all read and checked before anything is written
  std::vector<Run> runs;
  std::set<std::string> seen;
  std::vector<std::string> expanded;
  for (const std::string& d : dirs) {
    if (!is_directory(d)) throw ConfigError("run directory '" + d + "' does not exist or is not a directory");
    for (const std::string& e : expand_seeds(d)) expanded.push_back(e);
  }
  for (const std::string& d : expanded) {
    if (!is_directory(d)) throw ConfigError("run directory '" + d + "' does not exist or is not a directory");
    std::string canonical = std::filesystem::canonical(d).string();
    if (!seen.insert(canonical).second) throw ConfigError("run directory '" + d + "' is given twice");
    Run r;
    r.dir = d;
    read_config(r);
    read_eval(r);
    runs.push_back(std::move(r));
  }
  for (const Run& r : runs)
    if (r.task != runs[0].task)
      throw ConfigError("runs of different tasks cannot be plotted together: '" + runs[0].dir +
                        "' is " + runs[0].task + ", '" + r.dir + "' is " + r.task);
  Curves c = combine(runs);
  if (!has_title)
    title = runs[0].task + ", " + std::to_string(runs.size()) + (runs.size() == 1 ? " seed" : " seeds");

  // ---- the SVG, written atomically
  std::string svg = render_svg(runs, c, title);
  write_file_atomic(output, svg);  // a failure here (disk full) is one during the work: exit 1
  json out = {{"svg", output}, {"runs", runs.size()}, {"points", c.step.size()},
              {"final_mean_return", c.mean.back()}};
  if (c.interpolated) out["interpolated"] = true;
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_plot_command(CLI::App& parent, CommandRunner& run) {
  auto o = std::make_shared<PlotOptions>();
  CLI::App* sub = add_command(parent, "plot",
                              "eval return against env steps and wall time, mean and min-max band "
                              "over runs, as one SVG",
                              run, [o] { return plot_run(*o); });
  o->app = sub;
  sub->add_option("RUN_DIR", o->dirs,
                  "run directories, one or more (a run of several seeds stands for all its seeds)");
  sub->add_option("-o,--output", o->output, "the SVG file to write (atomically); required");
  sub->add_option("--title", o->title, "the plot's title (default: task and number of seeds)");
}

}  // namespace sac

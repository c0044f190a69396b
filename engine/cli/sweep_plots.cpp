// sweep_plots.cpp: the plots of `sac sweep collect` (sweep_plots.h).
#include "cli/sweep_plots.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "formats/whole_file.h"
#include "cli/commands.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

// a setting or task as a file name
std::string file_part(const std::string& s) {
  std::string out;
  for (char ch : s)
    out += (std::isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '+' || ch == '=')
               ? ch
               : '_';
  return out.empty() ? "base" : out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '&') out += "&amp;";
    else if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '"') out += "&quot;";
    else out += ch;
  }
  return out;
}

}  // namespace

std::string stack_svgs(const std::vector<std::string>& svgs, const std::string& title) {
  static const std::regex size_re(R"re(<svg[^>]*\bwidth="([0-9.]+)"[^>]*\bheight="([0-9.]+)")re");
  double width = 0, height = 0;
  std::string body;
  for (size_t k = 0; k < svgs.size(); ++k) {
    std::smatch m;
    if (!std::regex_search(svgs[k], m, size_re)) continue;
    const double w = std::stod(m[1].str()), h = std::stod(m[2].str());
    // ids made unique: id="x" -> id="p<k>-x", and every reference to them
    const std::string prefix = "p" + std::to_string(k) + "-";
    std::string svg = std::regex_replace(svgs[k], std::regex(R"re(\bid=")re"), "id=\"" + prefix);
    svg = std::regex_replace(svg, std::regex(R"re(url\(#)re"), "url(#" + prefix);
    svg = std::regex_replace(svg, std::regex(R"re(href="#)re"), "href=\"#" + prefix);
    // the nested document placed below the ones before it
    char at[64];
    std::snprintf(at, sizeof at, "<svg x=\"0\" y=\"%g\" ", height);
    svg = std::regex_replace(svg, std::regex("^<svg "), at, std::regex_constants::format_first_only);
    body += svg;
    width = std::max(width, w);
    height += h;
  }
  char head[256];
  std::snprintf(head, sizeof head,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
                "viewBox=\"0 0 %g %g\">\n",
                width, height, width, height);
  return std::string(head) + "<title>" + xml_escape(title) + "</title>\n" + body + "</svg>\n";
}

std::vector<std::pair<std::string, std::string>> write_sweep_plots(
    const std::string& dir, const std::vector<PlannedRun>& runs,
    const std::vector<SweepRunStatus>& status) {
  std::vector<std::pair<std::string, std::string>> plots;
  if (runs.empty() || runs[0].config.eval_episodes == 0) return plots;  // nothing evaluated
  // task \t setting -> the run directories that are done, in plan order
  std::map<std::string, std::vector<std::string>> done;
  std::vector<std::string> order;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string key = runs[i].config.env_id + "\t" + setting_label(runs[i]);
    if (!done.count(key)) order.push_back(key);
    std::vector<std::string>& dirs = done[key];
    if (status[i].state == "done") dirs.push_back(planned_run_dir(dir, runs[i]));
  }
  std::filesystem::create_directories(dir + "/plots");
  std::map<std::string, std::vector<std::string>> task_svgs;  // task -> its settings' SVGs
  std::vector<std::string> tasks;
  for (const std::string& key : order) {
    const std::string task = key.substr(0, key.find('\t')), setting = key.substr(key.find('\t') + 1);
    if (!task_svgs.count(task)) tasks.push_back(task);
    task_svgs[task];
    if (done[key].empty()) {
      std::fprintf(stderr, "sac sweep collect: no plot for %s %s: no run of it is done\n",
                   task.c_str(), setting.c_str());
      continue;
    }
    const std::string rel = "plots/" + file_part(task) + "_" + file_part(setting) + ".svg";
    std::vector<std::string> args = done[key];
    args.insert(args.end(), {"-o", dir + "/" + rel, "--title",
                             task + (setting.empty() ? "" : ", " + setting)});
    // `sac plot` in process; its JSON line goes to stdout with collect's
    try {
      plot_main(args);
    } catch (const ConfigError& e) {  // e.g. runs without evaluation rows: no plot, said so
      std::fprintf(stderr, "sac sweep collect: no plot for %s %s: %s\n", task.c_str(),
                   setting.c_str(), e.what());
      continue;
    }
    plots.emplace_back(key, rel);
    task_svgs[task].push_back(read_whole_file(dir + "/" + rel).value_or(""));
  }
  for (const std::string& task : tasks) {
    if (task_svgs[task].empty()) continue;
    const std::string rel = "plots/" + file_part(task) + ".svg";
    write_file_atomic(dir + "/" + rel, stack_svgs(task_svgs[task], task + ": every setting"));
    plots.emplace_back(task, rel);
  }
  return plots;
}

}  // namespace sac

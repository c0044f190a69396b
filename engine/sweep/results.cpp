// results.cpp: `sac sweep status` and the tables of `sac sweep collect` (sweep/results.h).
#include "sweep/results.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <iterator>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "formats/whole_file.h"
#include "run/log_progress.h"
#include "run/run_directory.h"
#include "sweep/task.h"
#include "sac/safetensors.h"

namespace sac {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::optional<std::string> text = read_whole_file(path);
  if (!text) return json();
  return json::parse(*text, nullptr, false);
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// the folders that log for `run`: its own, or each seed's
std::vector<std::string> log_dirs(const std::string& dir, const PlannedRun& run) {
  const std::string run_dir = planned_run_dir(dir, run);
  if (run.config.seeds.empty()) return {run_dir};
  std::vector<std::string> out;
  for (uint64_t s : run.seeds) out.push_back(seed_dir(run_dir, s));
  return out;
}

// latest step (metrics.jsonl) and latest mean eval return over the seeds (eval.csv)
void read_progress(const std::string& dir, const PlannedRun& run, SweepRunStatus& st) {
  double sum = 0;
  int n = 0;
  for (const std::string& d : log_dirs(dir, run)) {
    st.steps = std::max(st.steps,
                        latest_logged_step(read_whole_file(d + "/metrics.jsonl").value_or("")));
    const std::optional<double> ret =
        latest_eval_return(read_whole_file(d + "/eval.csv").value_or(""));
    if (ret) sum += *ret, ++n;
  }
  if (n > 0) st.eval_return = sum / n;
}

std::string number(const json& v) {
  return v.is_number() ? v.dump() : "";  // round-trip exact
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// a CSV field, quoted when it holds a comma or a quote
std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

}  // namespace

std::vector<SeedResult> seed_results(const std::string& dir, const PlannedRun& run) {
  std::vector<SeedResult> out;
  std::vector<std::string> dirs = log_dirs(dir, run);
  for (size_t i = 0; i < run.seeds.size(); ++i) {
    SeedResult r;
    r.seed = run.seeds[i];
    r.run_dir = dirs[i];
    json s = read_json(dirs[i] + "/summary.json");
    // finished: trained to the end, not stopped by divergence
    if (s.is_object() && s.contains("steps") && s["steps"].is_number_integer() &&
        s["steps"].get<int64_t>() >= run.config.total_steps && !s.contains("diverged"))
      r.summary = s;
    out.push_back(r);
  }
  return out;
}

std::vector<SweepRunStatus> sweep_status(const std::string& dir,
                                         const std::vector<PlannedRun>& runs) {
  const std::string here = host_name();
  std::vector<SweepRunStatus> out;
  for (const PlannedRun& run : runs) {
    SweepRunStatus st;
    st.run = &run;
    read_progress(dir, run, st);
    json state = read_sweep_state(dir, run);
    const std::string said = state.value("state", "");
    if (sweep_run_finished(dir, run)) {
      st.state = "done";
      int diverged = 0;
      for (const SeedResult& r : seed_results(dir, run)) diverged += r.summary.is_null();
      if (diverged > 0) st.detail = std::to_string(diverged) + " seed(s) diverged";
    } else if (said == "running") {
      st.state = "running";
      // a process of this host that is gone ended without recording how (kill -9, power)
      const int64_t pid = state.value("pid", (int64_t)0);
      if (state.value("host", "") == here && pid > 0 && ::kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        st.state = "failed";
        st.detail = "process " + std::to_string(pid) + " on " + here +
                    " ended without recording its outcome (killed?)";
      }
    } else if (said == "failed" || said == "diverged") {
      st.state = said;
      st.detail = state.value("error", "");
    } else {
      st.state = "pending";
      if (said == "stopped")
        st.detail = "stopped at step " + std::to_string(state.value("step", (int64_t)0)) +
                    " by a signal; resumes from its checkpoint when run again";
    }
    out.push_back(st);
  }
  return out;
}

json status_json(const SweepRunStatus& s) {
  json j = {{"task", s.run->task}, {"id", s.run->id}, {"state", s.state}};
  if (s.steps >= 0) j["steps"] = s.steps;
  j["total_steps"] = s.run->config.total_steps;
  if (std::isfinite(s.eval_return)) j["eval_return"] = s.eval_return;
  if (!s.detail.empty()) j[s.state == "failed" || s.state == "diverged" ? "error" : "detail"] = s.detail;
  return j;
}

namespace {

// one task and setting of a sweep: its finished seeds' final and best returns
struct ResultGroup {
  std::string task, setting;
  std::vector<double> final_returns, best_returns;
  int seeds = 0;
};

// what results.csv and results.md are made of, gathered in one pass over the runs' seeds
struct SweepResults {
  std::string csv;                     // results.csv: one row per run and seed
  std::vector<ResultGroup> groups;     // in the plan's order
  std::vector<std::string> unfinished; // results.md's rows of the runs not done
  int finished_seeds = 0, all_seeds = 0;
};

// the grid keys other than the task: results.csv's setting columns
std::vector<std::string> setting_keys(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> keys;
  for (auto it = runs[0].settings.begin(); it != runs[0].settings.end(); ++it)
    if (it.key() != "env.id") keys.push_back(it.key());
  return keys;
}

ResultGroup& group_of(std::vector<ResultGroup>& groups, const std::string& task,
                      const std::string& setting) {
  for (ResultGroup& e : groups)
    if (e.task == task && e.setting == setting) return e;
  groups.push_back({task, setting, {}, {}, 0});
  return groups.back();
}

// one seed's row of results.csv; a finished seed's returns go to its group
void add_seed_row(SweepResults& out, ResultGroup& g, const PlannedRun& run,
                  const std::vector<std::string>& keys, const SweepRunStatus& status,
                  const SeedResult& r) {
  ++out.all_seeds;
  ++g.seeds;
  const json& s = r.summary;
  std::string state = s.is_null() ? status.state : "done";
  if (s.is_null() && status.state == "done") state = "diverged";
  out.csv += csv(g.task) + "," + csv(run.id);
  for (const std::string& k : keys) out.csv += "," + csv(run.settings[k].dump());
  out.csv += "," + std::to_string(r.seed) + "," + state;
  if (s.is_null()) {
    out.csv += ",,,,,,\n";
    return;
  }
  ++out.finished_seeds;
  out.csv += "," + number(s["final_eval_return"]) + "," + number(s["best_eval_return"]) + "," +
             number(s["steps"]) + "," + number(s["wall_seconds"]) + "," +
             number(s["env_steps_per_second"]) + "," + number(s["updates_per_second"]) + "\n";
  if (s["final_eval_return"].is_number()) g.final_returns.push_back(s["final_eval_return"]);
  if (s["best_eval_return"].is_number()) g.best_returns.push_back(s["best_eval_return"]);
}

// results.md's row of a run that is not done
std::string unfinished_row(const PlannedRun& run, const SweepRunStatus& status) {
  std::string detail = status.detail;  // a '|' would end the table's cell
  for (char& ch : detail)
    if (ch == '|') ch = '/';
  return "| " + run.id + " | " + status.state + " | " +
         (status.steps >= 0 ? std::to_string(status.steps) : "-") + " / " +
         std::to_string(run.config.total_steps) + " | " + detail + " |";
}

SweepResults gather_results(const std::string& dir, const std::vector<PlannedRun>& runs,
                            const std::vector<SweepRunStatus>& status) {
  const std::vector<std::string> keys = setting_keys(runs);
  SweepResults out;
  out.csv = "task,run";
  for (const std::string& k : keys) out.csv += "," + csv(k);
  out.csv += ",seed,state,final_eval_return,best_eval_return,steps,wall_seconds,"
             "env_steps_per_second,updates_per_second\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const PlannedRun& run = runs[i];
    ResultGroup& g = group_of(out.groups, run.config.env_id, setting_label(run));
    for (const SeedResult& r : seed_results(dir, run)) add_seed_row(out, g, run, keys, status[i], r);
    if (status[i].state != "done") out.unfinished.push_back(unfinished_row(run, status[i]));
  }
  return out;
}

// mean, sample standard deviation (n - 1), min and max; NaN where undefined
std::vector<double> return_stats(const std::vector<double>& x) {
  double mean = 0, lo = INFINITY, hi = -INFINITY, var = 0;
  for (double v : x) mean += v, lo = std::min(lo, v), hi = std::max(hi, v);
  mean = x.empty() ? NAN : mean / x.size();
  for (double v : x) var += (v - mean) * (v - mean);
  double sd = x.size() >= 2 ? std::sqrt(var / (x.size() - 1)) : NAN;
  return std::vector<double>{mean, sd, x.empty() ? NAN : lo, x.empty() ? NAN : hi};
}

// results.md's row of one task and setting, over the seeds that finished
std::string group_row(const ResultGroup& g,
                      const std::vector<std::pair<std::string, std::string>>& plots) {
  std::vector<double> f = return_stats(g.final_returns), b = return_stats(g.best_returns);
  std::string plot;
  for (const auto& [key, path] : plots)
    if (key == g.task + "\t" + g.setting && !path.empty()) plot = "[svg](" + path + ")";
  return "| " + (g.setting.empty() ? std::string("(base)") : "`" + g.setting + "`") + " | " +
         std::to_string(g.final_returns.size()) + " of " + std::to_string(g.seeds) + " | " +
         fixed(f[0], 2) + " | " + fixed(f[1], 2) + " | " + fixed(f[2], 2) + " | " +
         fixed(f[3], 2) + " | " + fixed(b[0], 2) + " | " + plot + " |\n";
}

// results.md: per task and setting over the seeds that finished, then the runs not finished
std::string results_markdown(const SweepResults& r, size_t runs,
                             const std::vector<std::pair<std::string, std::string>>& plots) {
  std::string md = "# Sweep results\n\n" + std::to_string(runs) + " runs, " +
                   std::to_string(r.finished_seeds) + " of " + std::to_string(r.all_seeds) +
                   " seeds finished. Returns are deterministic evaluation returns (mean over the "
                   "evaluation episodes) over the seeds that finished; std is the sample standard "
                   "deviation (n - 1). Every seed is a row of results.csv.\n";
  std::string task;
  for (const ResultGroup& g : r.groups) {
    if (g.task != task) {
      task = g.task;
      std::string all;  // the task's plot of every setting
      for (const auto& [key, path] : plots)
        if (key == task) all = "Curves of every setting: [" + path + "](" + path + ")\n\n";
      md += "\n## " + task + "\n\n" + all + "| setting | seeds finished | final return mean | std | min | "
            "max | best return mean | plot |\n|---|---|---|---|---|---|---|---|\n";
    }
    md += group_row(g, plots);
  }
  if (!r.unfinished.empty()) {
    md += "\n## Not finished\n\n| run | state | steps | detail |\n|---|---|---|---|\n";
    for (const std::string& row : r.unfinished) md += row + "\n";
  }
  return md;
}

}  // namespace

json write_results(const std::string& dir, const std::vector<PlannedRun>& runs,
                   const std::vector<SweepRunStatus>& status,
                   const std::vector<std::pair<std::string, std::string>>& plots) {
  const SweepResults r = gather_results(dir, runs, status);
  write_file_atomic(dir + "/results.csv", r.csv);
  write_file_atomic(dir + "/results.md", results_markdown(r, runs.size(), plots));
  return {{"results_csv", dir + "/results.csv"}, {"results_md", dir + "/results.md"},
          {"runs", runs.size()}, {"seeds", r.all_seeds}, {"seeds_finished", r.finished_seeds},
          {"runs_not_finished", r.unfinished.size()}};
}

}  // namespace sac

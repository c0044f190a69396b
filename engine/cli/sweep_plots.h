// sweep_plots.h: the curves of a sweep (`sac sweep collect`): `sac plot` of each task and setting
// (the setting's finished seeds), DIR/plots/<task>_<setting>.svg, and per task one SVG of its
// settings one above the other, DIR/plots/<task>.svg (each setting's plot nested as it is, its
// ids prefixed so they stay unique).
// Tests: sac_tests --gtest_filter='Sweep*'
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "sweep/plan.h"
#include "sweep/results.h"

namespace sac {

/// The plots of the runs that are done; returns ("task\tsetting" or "task", path relative to
/// `dir`) for each plot written. A setting none of whose runs is done gets none (said on stderr).
std::vector<std::pair<std::string, std::string>> write_sweep_plots(
    const std::string& dir, const std::vector<PlannedRun>& runs,
    const std::vector<SweepRunStatus>& status);

/// One SVG of `svgs` (SVG documents as `sac plot` writes them) stacked top to bottom.
std::string stack_svgs(const std::vector<std::string>& svgs, const std::string& title);

}  // namespace sac

// command_line.cpp: parsing a `sac` command line with CLI11 and running the subcommand it selects,
// with every error in `sac`'s one-line form (ConfigError, exit 2) naming the option; used by
// main.cpp and, in process, by the tests (plot_main).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "formats/path_checks.h"

namespace sac {
namespace {

// the subcommand chain the line selected: "sac", "sac bench", "sac bench train"
CLI::App* selected(CLI::App& app, std::string& name) {
  CLI::App* a = &app;
  name = app.get_name();
  for (;;) {
    std::vector<CLI::App*> subs = a->get_subcommands();
    if (subs.empty()) return a;
    a = subs[0];
    name += " " + a->get_name();
  }
}

// CLI11's message for `e`, in `sac`'s words; `where` names the subcommand
std::string parse_error_message(const CLI::ParseError& e, const std::string& where) {
  std::string what = e.what();
  size_t colon = what.find(": ");
  // "--record: 1 required TEXT missing": an option given last, without its value
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && colon != std::string::npos &&
      ends_with(what, " missing"))
    return "option " + what.substr(0, colon) + " needs a value (see '" + where + " --help')";
  // "--env is required"
  if (dynamic_cast<const CLI::RequiredError*>(&e) && ends_with(what, " is required"))
    return "'" + where + "' needs " + what.substr(0, what.size() - 12) + " (see '" + where +
           " --help')";
  for (char& ch : what)
    if (ch == '\n') ch = ' ';
  return what + " (see '" + where + " --help')";
}

}  // namespace

int run_command_line(CLI::App& app, const std::vector<std::string>& args, CommandRunner& run,
                     const std::function<std::string()>& version_text) {
  std::string where;
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them backwards
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, std::cout, std::cerr);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, std::cout, std::cerr);
  } catch (const CLI::ParseError& e) {
    selected(app, where);
    throw ConfigError(parse_error_message(e, where));
  }
  CLI::App* chosen = selected(app, where);
  if (version_text && app.get_option_no_throw("--version") && app.count("--version") > 0) {
    std::fputs(version_text().c_str(), stdout);
    return 0;
  }
  // arguments no option took: the first one names the problem
  std::vector<std::string> left = chosen->remaining();
  if (!left.empty()) {
    bool has_subcommands = !chosen->get_subcommands([](CLI::App*) { return true; }).empty();
    if (has_subcommands && left[0][0] != '-')
      throw ConfigError("unknown command '" + left[0] + "' for '" + where + "' (see '" + where +
                        " --help')");
    bool option = left[0].size() > 1 && left[0][0] == '-';
    throw ConfigError(std::string(option ? "unknown option '" : "unexpected argument '") + left[0] +
                      "' for '" + where + "' (see '" + where + " --help')");
  }
  if (!run) {
    // no subcommand (or `sac bench` alone): the help of what was given, on stderr
    std::string parent = where.substr(0, where.rfind(' '));
    std::fputs((chosen == &app ? app.help() : chosen->help(parent)).c_str(), stderr);
    return 2;
  }
  return run();
}

int plot_main(const std::vector<std::string>& args) {
  CLI::App app("sac plot", "sac");
  CommandRunner run;
  add_plot_command(app, run);
  std::vector<std::string> all = {"plot"};
  all.insert(all.end(), args.begin(), args.end());
  return run_command_line(app, all, run, nullptr);
}

}  // namespace sac

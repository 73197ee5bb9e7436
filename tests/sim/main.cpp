// parley_sim: the deterministic fault-injection simulator (test tier `sim`).
//
//   parley_sim --seeds N [--start S]     run seeds S..S+N-1 (S defaults to 1)
//   parley_sim --seed X [--verbose]      run one seed and print its trace
//   parley_sim --selftest                only prove the checker works
//   parley_sim --spec                    scripted reproductions of bugs the simulation found
//   --plant-bug dedupe                   run every client with the planted dedupe bug
//                                        (see planted_bug_name(): defeats dedupe)
//
// The checker self-test runs first on every run. The last line is always
//   sim: seeds=N lost=L duplicated=D reordered=R unexpected=U
// and the exit status is non-zero when any count is non-zero, a seed fails, or the self-test
// fails.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "checker_selftest.hpp"
#include "simulation.hpp"
#include "spec_tests.hpp"

namespace {

using parley::sim::Options;
using parley::sim::SeedResult;

constexpr std::uint64_t kPlantedSeeds = 200;
constexpr std::uint64_t kDetailedFailures = 50;  // failing seeds printed with findings and trace

void usage() {
  std::fprintf(
      stderr,
      "usage: parley_sim --seeds N [--start S] | --seed X [--verbose] | --selftest | --spec\n"
      "                  [--plant-bug dedupe]\n");
}

void report_failure(const SeedResult& r, bool detailed, bool print_trace) {
  std::string reason;
  if (!r.failures.empty()) {
    reason = r.failures.front();
  } else {
    reason = "lost=" + std::to_string(r.verdict.lost) +
             " duplicated=" + std::to_string(r.verdict.duplicated) +
             " reordered=" + std::to_string(r.verdict.reordered) +
             " unexpected=" + std::to_string(r.verdict.unexpected);
    if (!r.verdict.findings.empty()) reason += "; first: " + r.verdict.findings.front();
  }
  std::printf("FAIL seed=%llu: %s\n", static_cast<unsigned long long>(r.seed), reason.c_str());
  if (!detailed) {
    std::printf("  (details omitted after %llu failing seeds; rerun with --seed %llu)\n",
                static_cast<unsigned long long>(kDetailedFailures),
                static_cast<unsigned long long>(r.seed));
    return;
  }
  std::printf("  topology %s, %zu queued, %zu server messages, %llu steps, %.1f s simulated\n",
              r.topology.c_str(), r.queued, r.server_messages,
              static_cast<unsigned long long>(r.steps), static_cast<double>(r.sim_ms) / 1000.0);
  for (std::size_t i = 1; i < r.failures.size(); ++i) std::printf("  %s\n", r.failures[i].c_str());
  std::size_t shown = 0;
  for (const auto& f : r.verdict.findings) {
    if (++shown > 20) {
      std::printf("  ... %zu more findings\n", r.verdict.findings.size() - 20);
      break;
    }
    std::printf("  %s\n", f.c_str());
  }
  if (!print_trace) return;
  std::printf("  trace (last %zu events):\n", r.trace.size());
  for (const auto& line : r.trace) std::printf("    %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seeds = 0, start = 1, one = 0;
  bool have_one = false, verbose = false, selftest_only = false, plant = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::uint64_t {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--seeds") {
      seeds = value();
    } else if (a == "--start") {
      start = value();
    } else if (a == "--seed") {
      one = value(), have_one = true;
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--spec") {
      return parley::sim::spec_tests(stdout) ? 0 : 1;
    } else if (a == "--selftest") {
      selftest_only = true;
    } else if (a == "--plant-bug" && i + 1 < argc && std::strcmp(argv[i + 1], "dedupe") == 0) {
      plant = true, ++i;
    } else {
      usage();
      return 2;
    }
  }
  if (!have_one && !selftest_only && seeds == 0) {
    usage();
    return 2;
  }

  const auto t0 = std::chrono::steady_clock::now();
  bool ok = parley::sim::checker_selftest(stdout);
  if (!have_one) ok = parley::sim::planted_bug_selftest(stdout, kPlantedSeeds) && ok;
  // The scripted reproductions of bugs the simulation found are regression tests too.
  if (!have_one && !selftest_only) ok = parley::sim::spec_tests(stdout) && ok;
  std::fflush(stdout);
  if (selftest_only) return ok ? 0 : 1;

  Options opt;
  opt.plant_dedupe_bug = plant;
  opt.verbose = verbose && have_one;
  opt.trace = have_one;
  if (have_one) {
    start = one, seeds = 1;
    opt.trace_keep = verbose ? 0 : 100'000;
  }
  std::int64_t lost = 0, dup = 0, reord = 0, unexp = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::int64_t> coverage;
  for (std::uint64_t s = start; s < start + seeds; ++s) {
    SeedResult r = parley::sim::run_seed(s, opt);
    if (r.failed() && !opt.trace) {  // run it again, deterministically, keeping the trace
      Options again = opt;
      again.trace = true;
      SeedResult traced = parley::sim::run_seed(s, again);
      if (traced.verdict.findings != r.verdict.findings || traced.failures != r.failures) {
        traced.failures.insert(traced.failures.begin(),
                               "nondeterminism: the traced re-run gave a different history");
      }
      r = std::move(traced);
    }
    lost += r.verdict.lost, dup += r.verdict.duplicated;
    reord += r.verdict.reordered, unexp += r.verdict.unexpected;
    for (const auto& [k, v] : r.coverage) coverage[k] += v;
    if (have_one && !r.trace.empty()) {
      for (const auto& line : r.trace) std::printf("%s\n", line.c_str());
    }
    if (r.failed()) {
      report_failure(r, have_one || failed < kDetailedFailures, !have_one);
      ++failed;
    } else if (have_one) {
      std::printf(
          "seed %llu ok: %s, %zu queued, %zu server messages, %llu steps, %.1f s "
          "simulated\n",
          static_cast<unsigned long long>(s), r.topology.c_str(), r.queued, r.server_messages,
          static_cast<unsigned long long>(r.steps), static_cast<double>(r.sim_ms) / 1000.0);
    }
    std::fflush(stdout);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string cov;
  for (const auto& [k, v] : coverage) cov += " " + k + "=" + std::to_string(v);
  std::printf("sim: coverage:%s\n", cov.c_str());
  std::printf("sim: %llu of %llu seeds failed (%.1f s wall, self-test included)\n",
              static_cast<unsigned long long>(failed), static_cast<unsigned long long>(seeds),
              secs);
  std::printf("sim: seeds=%llu lost=%lld duplicated=%lld reordered=%lld unexpected=%lld\n",
              static_cast<unsigned long long>(seeds), static_cast<long long>(lost),
              static_cast<long long>(dup), static_cast<long long>(reord),
              static_cast<long long>(unexp));
  return ok && failed == 0 && lost + dup + reord + unexp == 0 ? 0 : 1;
}

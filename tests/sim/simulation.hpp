// One seeded simulation run: a fault phase, a healing phase, then the checker.
//
// Everything (topology, workload, faults, delays, client seeds) derives from the seed, and the
// discrete-event scheduler has no wall clock, so `run_seed(s)` always replays the same history.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "checker.hpp"

namespace parley::sim {

struct Options {
  bool trace = true;              // keep a trace (off for speed; failing seeds are re-run)
  bool verbose = false;           // print every trace line as it happens
  bool plant_dedupe_bug = false;  // Config::debug_disable_receive_dedupe in every client
  std::size_t trace_keep = 60;    // trace lines kept for a failure report
};

struct SeedResult {
  std::uint64_t seed = 0;
  std::string topology;
  Verdict verdict;
  std::vector<std::string> failures;             // liveness, invariant and protocol failures
  std::vector<std::string> trace;                // the last `trace_keep` events
  std::uint64_t steps = 0;                       // scheduler events processed
  std::int64_t sim_ms = 0;                       // simulated time
  std::size_t queued = 0;                        // messages the users saw as queued
  std::size_t server_messages = 0;               // messages (all authors) stored by the server
  std::map<std::string, std::int64_t> coverage;  // how often each fault / path fired
  bool failed() const { return !verdict.ok() || !failures.empty(); }
};

SeedResult run_seed(std::uint64_t seed, const Options& opt);

// Which planted bug Options::plant_dedupe_bug switches on in this core.
const char* planted_bug_name();

}  // namespace parley::sim

// Proof that the checker works: hand-made histories with planted problems must be classified
// with exact counts, and a real simulation of a client with a planted dedupe bug (receive-side
// dedupe off if the core has that switch, else a fresh cid per retry) must be reported as
// duplicating.
#include "checker_selftest.hpp"

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "checker.hpp"
#include "simulation.hpp"

namespace parley::sim {
namespace {

// A small, correct history: d0 and d1 (one user) share conversation c1; d0 queued a, b, c.
History clean() {
  History h;
  h.queued = {
      {"d0", "c1", "k_a", "a", {"a"}, 1, false},
      {"d0", "c1", "k_b", "b", {"b"}, 2, false},
      {"d1", "c1", "k_c", "c", {"c"}, 1, false},
  };
  ServerConversation c{"u1", "c1", {}};
  c.messages = {
      {"m1", "k_a", 1, "a", false},
      {"m2", "", 2, "agent hello", false},
      {"m3", "k_b", 4, "b", false},  // seq 3 is an invisible internal note: a hole
      {"m4", "k_c", 5, "c", false},
  };
  h.server = {c};
  for (const char* dev : {"d0", "d1"}) {
    DeviceFinal d;
    d.device = dev;
    d.user = "u1";
    for (const auto& m : c.messages) {
      d.store["c1"].push_back(HeldMessage{m.id, m.cid, m.seq, m.text, m.deleted});
    }
    d.has_timeline = true;
    d.timeline = d.store;
    h.devices.push_back(d);
  }
  return h;
}

struct Case {
  const char* name;
  std::function<void(History&)> plant;
  std::int64_t lost, duplicated, reordered, unexpected;
};

std::vector<Case> cases() {
  return {
      {"clean history", [](History&) {}, 0, 0, 0, 0},
      {"queued message never reached the server",
       [](History& h) {
         h.queued.push_back({"d0", "c1", "k_z", "z", {"z"}, 3, false});
       },
       1, 0, 0, 0},
      {"cancelled message that never reached the server is fine",
       [](History& h) {
         h.queued.push_back({"d0", "c1", "k_z", "z", {"z"}, 3, true});
       },
       0, 0, 0, 0},
      {"server message missing from one device store",
       [](History& h) {
         auto& s = h.devices[1].store["c1"];
         s.erase(s.begin() + 1);
       },
       1, 0, 0, 0},
      {"server message missing from one device timeline",
       [](History& h) { h.devices[0].timeline["c1"].pop_back(); }, 1, 0, 0, 0},
      {"server stored a cid twice",
       [](History& h) {
         h.server.push_back({"u9", "c9", {{"m5", "k_b", 9, "b", false}}});
       },
       0, 1, 0, 0},
      {"device store holds a message twice",
       [](History& h) { h.devices[0].store["c1"].push_back(h.devices[0].store["c1"][2]); }, 0, 1, 0,
       0},
      {"timeline shows the local echo and the confirmed message",
       [](History& h) {
         h.devices[0].timeline["c1"].push_back({"", "k_b", 0, "b", false});
       },
       0, 1, 0, 0},
      {"transient timeline duplicate seen during the run",
       [](History& h) { h.devices[1].observed_duplicates = {"m2"}; }, 0, 1, 0, 0},
      {"transient duplicate still on screen is counted once",
       [](History& h) {
         h.devices[0].timeline["c1"].push_back(h.devices[0].timeline["c1"][0]);
         h.devices[0].observed_duplicates = {"m1"};
       },
       0, 1, 0, 0},
      {"a retry stored under a fresh cid is a duplicate, not a stranger",
       [](History& h) {
         h.server[0].messages.push_back({"m5", "k_fresh", 6, "b", false});
         for (auto& d : h.devices) {
           d.store["c1"].push_back({"m5", "k_fresh", 6, "b", false});
           d.timeline["c1"].push_back({"m5", "k_fresh", 6, "b", false});
         }
       },
       0, 1, 0, 0},
      {"a message delivered only under a fresh cid is neither lost nor unexpected",
       [](History& h) {
         h.queued[1].cid = "k_b_local";
         h.queued[1].versions = {"b0", "b"};
       },
       0, 0, 0, 0},
      {"server order differs from enqueue order",
       [](History& h) { std::swap(h.queued[0].order, h.queued[1].order); }, 0, 0, 1, 0},
      {"store holds a message at the wrong seq",
       [](History& h) { h.devices[1].store["c1"][3].seq = 9; }, 0, 0, 1, 0},
      {"server message nobody saw queued",
       [](History& h) {
         h.server[0].messages.push_back({"m9", "k_rejected", 6, "rejected", false});
         for (auto& d : h.devices) {
           d.store["c1"].push_back({"m9", "k_rejected", 6, "rejected", false});
           d.timeline["c1"].push_back({"m9", "k_rejected", 6, "rejected", false});
         }
       },
       0, 0, 0, 1},
      {"cancelled message delivered anyway", [](History& h) { h.queued[2].cancelled = true; }, 0, 0,
       0, 1},
      {"server text differs from the last committed edit",
       [](History& h) { h.queued[1].text = "b edited"; }, 0, 0, 0, 1},
      {"store holds a message the server does not have",
       [](History& h) {
         h.devices[0].store["c1"].push_back({"m77", "", 8, "ghost", false});
       },
       0, 0, 0, 1},
      {"store text differs from the server",
       [](History& h) { h.devices[1].store["c1"][1].text = "stale"; }, 0, 0, 0, 1},
      {"everything at once",
       [](History& h) {
         h.queued.push_back({"d0", "c1", "k_z", "z", {"z"}, 3, false});   // lost
         h.server[0].messages.push_back({"m6", "k_new", 7, "n", false});  // unexpected
         h.devices[0].store["c1"].push_back({"m6", "k_new", 7, "n", false});
         h.devices[1].store["c1"].push_back({"m6", "k_new", 7, "n", false});
         h.devices[0].timeline["c1"].push_back({"m6", "k_new", 7, "n", false});
         h.devices[1].timeline["c1"].push_back({"m6", "k_new", 7, "n", false});
         h.devices[1].timeline["c1"].push_back({"m6", "k_new", 7, "n", false});  // duplicated
         std::swap(h.queued[0].order, h.queued[1].order);                        // reordered
       },
       1, 1, 1, 1},
  };
}

}  // namespace

bool checker_selftest(std::FILE* out) {
  bool ok = true;
  int n = 0;
  for (const auto& c : cases()) {
    History h = clean();
    c.plant(h);
    const Verdict v = check(h);
    ++n;
    if (v.lost != c.lost || v.duplicated != c.duplicated || v.reordered != c.reordered ||
        v.unexpected != c.unexpected) {
      ok = false;
      std::fprintf(out,
                   "FAIL selftest: checker case '%s': got lost=%lld duplicated=%lld "
                   "reordered=%lld unexpected=%lld, want %lld %lld %lld %lld\n",
                   c.name, static_cast<long long>(v.lost), static_cast<long long>(v.duplicated),
                   static_cast<long long>(v.reordered), static_cast<long long>(v.unexpected),
                   static_cast<long long>(c.lost), static_cast<long long>(c.duplicated),
                   static_cast<long long>(c.reordered), static_cast<long long>(c.unexpected));
      for (const auto& f : v.findings) std::fprintf(out, "    %s\n", f.c_str());
    }
  }
  if (ok) std::fprintf(out, "selftest: checker classified %d planted histories correctly\n", n);
  return ok;
}

bool planted_bug_selftest(std::FILE* out, std::uint64_t seeds) {
  Options opt;
  opt.plant_dedupe_bug = true;
  opt.trace = false;
  std::int64_t dup = 0;
  std::uint64_t caught = 0;
  for (std::uint64_t s = 1; s <= seeds; ++s) {
    const SeedResult r = run_seed(s, opt);
    dup += r.verdict.duplicated;
    caught += r.verdict.duplicated > 0;
  }
  if (dup == 0) {
    std::fprintf(out,
                 "FAIL selftest: with the planted bug (%s), %llu seeds showed no duplicate: "
                 "the checker (or the simulation) cannot see duplicates\n",
                 planted_bug_name(), static_cast<unsigned long long>(seeds));
    return false;
  }
  std::fprintf(out, "selftest: planted bug (%s) caught: duplicated=%lld in %llu of %llu seeds\n",
               planted_bug_name(), static_cast<long long>(dup),
               static_cast<unsigned long long>(caught), static_cast<unsigned long long>(seeds));
  return true;
}

}  // namespace parley::sim

#!/usr/bin/env bash
# Parley test runner: installs what is missing, builds, and runs the test tiers.
#
#   tests/run.sh                      every tier that exists: core, core-wasm, sim, server,
#                                     conformance, bench
#   tests/run.sh core sim             only the named tiers, in the order given
#   tests/run.sh sim --seeds N        simulator with N seeds (default 2000); other options
#                                     after "sim" (--start S, --seed X, --verbose, ...) are
#                                     passed through to parley_sim
#
# Tiers
#   core       native Catch2 suite (build/native/parley_core_tests), then every fuzz
#              corpus replay (tests/fuzz/corpus/<target>/ when present, else built-in seeds)
#   core-wasm  the same Catch2 suite built with em++ (build/wasm) and run in Node
#   sim        deterministic simulator (build/native/parley_sim --seeds N)
#   server     the reference server's Catch2 suite on real SQLite files
#              (build/native/parley_server_tests), then its network edge against the real
#              binary on loopback (tests/server_net/run.mjs: agent WebSocket, static files,
#              CORS, WebSocket close codes, shutdown), then the kill -9 / SIGTERM
#              durability test (tests/durability/kill9.mjs)
#   conformance  the protocol conformance suite (tests/conformance/run.mjs) against a
#              freshly started build/native/parley_server on loopback
#   web        the browser shell's parts: the wasm binding in Node (tests/wasm), the
#              public types (tsc on tests/web/types), and in Debian's Chromium: IndexedDB
#              storage and its contract (tests/web/storage), the reference adapter against
#              the real server (tests/web/transport), tab leadership (tests/web/tabs)
#   e2e        the built bundle (build/dist) in Chromium against the real server
#              (tests/e2e/run.mjs): offline/reload, lost acks, tabs, logout, strict CSP;
#              attachments (tests/e2e/attachments.mjs): online, offline across reloads,
#              limits, from a follower tab, failing uploads
#   xmpp       the XMPP adapter (web/src/transport/xmpp, build/dist/parley-xmpp.mjs) against
#              a throw-away Prosody (Debian's package) on loopback: its pure mapping
#              (tests/xmpp/mapping.mjs), the adapter from Node (tests/xmpp/adapter.mjs), and
#              the bundle in Chromium (tests/xmpp/run.mjs): offline/reload/duplicate
#              scenarios, socket kills with XEP-0198 resume, a failed resume with a MAM
#              catch-up, forged carbons and archive results
#   ui         the widget, <parley-messenger>, in Chromium against the real server
#              (tests/widget/run.mjs), its screenshot suite (tests/widget/screens.mjs,
#              PNGs in build/screens/), and its rich-message, markdown and bridge parts
#              (tests/widget_parts/run.mjs). "widget" is another name for this tier.
#   demo       the sales demo (demo/): the guided tour walked in Chromium on the store page
#              and the agent console against the real server (tests/demo/tour.mjs,
#              screenshots in build/screens/demo-tour-*.png), the demo bar's hours, style
#              and reset (tests/demo/controls.mjs), the console's own smoke test
#              (tests/demo/agent.mjs), and demo/run.sh's contract (tests/demo/run_sh.mjs)
#   bench      Google Benchmark (build/native/parley_bench), then
#              node tests/bench/wasm_bench.js when it exists, then the WebSocket load
#              benchmark against the server (tests/load/load.mjs), then start-up in
#              Chromium with 1k/10k/100k stored (tests/bench/browser/startup.mjs), then
#              artifact sizes
#
# With more than one tier it ends with "run: N passed, M failed" (tiers, not test cases).
# With exactly one tier nothing is printed after the tier's own output, so
# "tests/run.sh sim --seeds N" ends with the simulator's own summary line.
# Exit status is non-zero when any tier fails.
#
# Environment: PARLEY_JOBS (build parallelism, default 2), PARLEY_NO_INSTALL=1 (skip the
# package check), PARLEY_BENCH_ARGS (extra arguments for parley_bench).
set -euo pipefail

# Paths (ROOT, BUILD_DIR, NATIVE_DIR, WASM_DIR), JOBS, the environment, and the install and
# build helpers, shared with demo/run.sh.
# shellcheck source=tests/lib/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
ALL_TIERS=(core core-wasm sim server conformance web e2e xmpp ui demo bench)
DEFAULT_SEEDS=2000

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 2; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

# ----------------------------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------------------------
tiers=()
sim_args=()
seeds=""
seen_sim=0
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --seeds)
      (($# >= 2)) || die "--seeds needs a number"
      seeds="$2"; shift 2 ;;
    --seeds=*) seeds="${1#--seeds=}"; shift ;;
    widget) [[ " ${tiers[*]-} " == *" ui "* ]] || tiers+=(ui); shift ;;
    core | core-wasm | sim | server | conformance | web | e2e | xmpp | ui | demo | bench)
      [[ "$1" == sim ]] && seen_sim=1
      [[ " ${tiers[*]-} " == *" $1 "* ]] || tiers+=("$1")
      shift ;;
    -*)
      ((seen_sim)) || die "unknown option '$1' (options other than --seeds go after 'sim')"
      sim_args+=("$1")
      # "--opt value": a following word that is not a tier and not an option is its value.
      if [[ "$1" != *=* && $# -ge 2 && "$2" != -* ]] &&
        [[ " ${ALL_TIERS[*]} " != *" $2 "* ]]; then
        sim_args+=("$2"); shift
      fi
      shift ;;
    *) die "unknown tier '$1' (tiers: ${ALL_TIERS[*]})" ;;
  esac
done
if [[ -n "$seeds" ]]; then
  [[ "$seeds" =~ ^[0-9]+$ ]] || die "--seeds wants a non-negative integer, got '$seeds'"
fi

explicit=0
if ((${#tiers[@]})); then explicit=1; else tiers=("${ALL_TIERS[@]}"); fi

core_tests_exist() {
  local f
  for f in tests/core/*.cpp; do
    [[ -e "$f" && "$(basename "$f")" != main.cpp ]] && return 0
  done
  return 1
}

# ----------------------------------------------------------------------------------------
# Tiers. Each runs in a subshell with errexit; status 0 = passed, 3 = nothing to run.
# ----------------------------------------------------------------------------------------
SKIP=3

tier_core() {
  core_tests_exist || { say "core: no test sources in tests/core/"; return $SKIP; }
  configure_native
  build "$NATIVE_DIR" parley_core_tests parley_fuzz_replays
  "$NATIVE_DIR/parley_core_tests"

  local manifest="$NATIVE_DIR/parley_fuzz_targets.txt" exe corpus rc=0
  if [[ -s "$manifest" ]]; then
    say "-- fuzz corpus replays"
    while read -r exe corpus; do
      [[ -n "$exe" ]] || continue
      if [[ "$corpus" == "-" ]]; then
        "$NATIVE_DIR/$exe" || rc=1
      else
        "$NATIVE_DIR/$exe" "$corpus" || rc=1
      fi
    done <"$manifest"
  fi
  return $rc
}

tier_core_wasm() {
  core_tests_exist || { say "core-wasm: no test sources in tests/core/"; return $SKIP; }
  configure_wasm
  build "$WASM_DIR" parley_core_tests
  node --no-experimental-fetch "$WASM_DIR/parley_core_tests.js" --use-colour no
}

tier_sim() {
  have 'tests/sim/*.cpp' || { say "sim: no sources in tests/sim/"; return $SKIP; }
  configure_native
  build "$NATIVE_DIR" parley_sim
  local args=() a single=0
  for a in "${sim_args[@]}"; do
    case "$a" in --seed | --seed=* | --selftest | --spec) single=1 ;; esac
  done
  # Default to $DEFAULT_SEEDS seeds unless a single-seed/self-test mode was asked for.
  if [[ -n "$seeds" ]]; then args+=(--seeds "$seeds")
  elif ((!single)); then args+=(--seeds "$DEFAULT_SEEDS"); fi
  args+=("${sim_args[@]}")
  say "-- build/native/parley_sim ${args[*]}"
  "$NATIVE_DIR/parley_sim" "${args[@]}"
}

# A free TCP port on loopback (asked of the kernel, then released).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_server <db> <config|-> <log>: starts build/native/parley_server on a free port;
# sets SERVER_PID and SERVER_URL; waits for /healthz.
start_server() {
  local db="$1" cfg="$2" log="$3" port args=()
  port="$(free_port)"
  args=(--port "$port" --db "$db" --quiet)
  [[ "$cfg" != "-" ]] && args+=(--config "$cfg")
  "$NATIVE_DIR/parley_server" "${args[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  local i
  for i in $(seq 1 100); do
    if node -e "fetch('$SERVER_URL/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log"; say "run.sh: parley_server exited early" >&2; return 1; }
    sleep 0.1
  done
  cat "$log"
  say "run.sh: parley_server did not become ready at $SERVER_URL" >&2
  return 1
}

# stop_server: SIGTERM, and the exit status must be 0 (graceful shutdown).
stop_server() {
  [[ -n "${SERVER_PID:-}" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  if ((rc != 0)); then say "run.sh: parley_server exited with $rc after SIGTERM" >&2; return 1; fi
}

tier_server() {
  have 'tests/server/*.cpp' || { say "server: no sources in tests/server/"; return $SKIP; }
  configure_native
  build "$NATIVE_DIR" parley_server_tests parley_server
  "$NATIVE_DIR/parley_server_tests"
  if [[ -f tests/server_net/run.mjs ]]; then
    say "-- node tests/server_net/run.mjs"
    node --experimental-websocket --no-warnings tests/server_net/run.mjs \
      --binary "$NATIVE_DIR/parley_server"
  fi
  if [[ -f tests/durability/kill9.mjs ]]; then
    say "-- node tests/durability/kill9.mjs"
    node --experimental-websocket --no-warnings tests/durability/kill9.mjs \
      --binary "$NATIVE_DIR/parley_server"
  fi
}

tier_conformance() {
  [[ -f tests/conformance/run.mjs ]] || { say "conformance: no tests/conformance/run.mjs"; return $SKIP; }
  configure_native
  build "$NATIVE_DIR" parley_server
  CONF_WORK="$(mktemp -d)"
  local work="$CONF_WORK"
  # The tier runs in a subshell: this trap stops the server however the tier ends.
  trap 'stop_server >/dev/null 2>&1; rm -rf "$CONF_WORK"' EXIT
  start_server "$work/conformance.db" tests/conformance/server-config.json "$work/server.log"
  say "-- node tests/conformance/run.mjs --server $SERVER_URL"
  local rc=0
  node --experimental-websocket --no-warnings tests/conformance/run.mjs --server "$SERVER_URL" \
    --app social --apps live,returning,social --agent-token conformance-agent-token \
    --jwt-secret conformance-jwt-secret --jwt-audience parley-conformance || rc=$?
  stop_server || rc=1
  ((rc == 0)) || { say "-- server log"; tail -50 "$work/server.log"; }
  return $rc
}

tier_web() {
  [[ -d web/src ]] || { say "web: no web/src"; return $SKIP; }
  ensure_npm_deps
  configure_native
  build "$NATIVE_DIR" parley_server
  local rc=0
  if [[ -d tests/wasm ]]; then
    configure_wasm
    build "$WASM_DIR" parley_wasm
    say "-- node --test tests/wasm"
    node --no-experimental-fetch --test tests/wasm/ || rc=1
  fi
  say "-- tsc -p tests/web/types"
  npx --no-install tsc -p tests/web/types || rc=1
  local t
  for t in storage transport tabs; do
    [[ -f "tests/web/$t/run.mjs" ]] || continue
    say "-- node tests/web/$t/run.mjs"
    node tests/web/$t/run.mjs || rc=1
  done
  return $rc
}


tier_e2e() {
  [[ -f tests/e2e/run.mjs ]] || { say "e2e: no tests/e2e/run.mjs"; return $SKIP; }
  build_server_and_dist
  local rc=0
  say "-- node tests/e2e/run.mjs"
  node tests/e2e/run.mjs --binary "$NATIVE_DIR/parley_server" || rc=1
  if [[ -f tests/e2e/attachments.mjs ]]; then
    say "-- node tests/e2e/attachments.mjs"
    node tests/e2e/attachments.mjs || rc=1
  fi
  return $rc
}

tier_xmpp() {
  [[ -f tests/xmpp/run.mjs ]] || { say "xmpp: no tests/xmpp/run.mjs"; return $SKIP; }
  [[ -x /usr/bin/prosody ]] || { say "xmpp: /usr/bin/prosody is missing (apt-get install prosody)" >&2; return 1; }
  ensure_npm_deps
  build_dist
  local rc=0
  say "-- node tests/xmpp/mapping.mjs"
  node tests/xmpp/mapping.mjs || rc=1
  say "-- node tests/xmpp/adapter.mjs"
  node tests/xmpp/adapter.mjs || rc=1
  say "-- node tests/xmpp/run.mjs"
  node tests/xmpp/run.mjs || rc=1
  return $rc
}

tier_ui() {
  [[ -f tests/widget/run.mjs ]] || { say "ui: no tests/widget/run.mjs"; return $SKIP; }
  build_server_and_dist
  local rc=0
  say "-- node tests/widget/run.mjs"
  node tests/widget/run.mjs || rc=1
  if [[ -f tests/widget/screens.mjs ]]; then
    say "-- node tests/widget/screens.mjs"
    node tests/widget/screens.mjs || rc=1
  fi
  if [[ -f tests/widget_parts/run.mjs ]]; then
    say "-- node tests/widget_parts/run.mjs"
    node tests/widget_parts/run.mjs || rc=1
  fi
  return $rc
}

tier_demo() {
  [[ -f tests/demo/tour.mjs ]] || { say "demo: no tests/demo/tour.mjs"; return $SKIP; }
  build_server_and_dist
  build_demo
  local rc=0 t
  for t in tour controls agent run_sh; do
    [[ -f "tests/demo/$t.mjs" ]] || continue
    say "-- node tests/demo/$t.mjs"
    node --experimental-websocket --no-warnings "tests/demo/$t.mjs" || rc=1
  done
  return $rc
}

print_sizes() {
  local files=() f
  for f in "$WASM_DIR"/parley_bench_wasm.wasm "$WASM_DIR"/parley_bench_wasm.js \
    "$BUILD_DIR"/dist/*; do
    [[ -f "$f" ]] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  say "-- sizes (bytes)"
  printf '%-48s %10s %12s\n' file raw 'gzip -9'
  for f in "${files[@]}"; do
    printf '%-48s %10d %12d\n' "${f#"$ROOT"/}" "$(wc -c <"$f")" "$(gzip -9 -c "$f" | wc -c)"
  done
}

tier_bench() {
  local ran=0
  if have 'tests/bench/*.cpp'; then
    configure_native
    build "$NATIVE_DIR" parley_bench
    # shellcheck disable=SC2086
    "$NATIVE_DIR/parley_bench" --benchmark_format=console ${PARLEY_BENCH_ARGS:-}
    ran=1
  else
    say "bench: no tests/bench/*.cpp; skipping native benchmarks"
  fi

  if have 'tests/bench/wasm/*.cpp'; then
    configure_wasm
    build "$WASM_DIR" parley_bench_wasm
  else
    say "bench: no tests/bench/wasm/*.cpp; not building the wasm bench module"
  fi
  if [[ -f tests/bench/wasm_bench.js ]]; then
    say "-- node tests/bench/wasm_bench.js"
    node --no-experimental-fetch tests/bench/wasm_bench.js
    ran=1
  else
    say "bench: no tests/bench/wasm_bench.js; skipping wasm benchmarks"
  fi
  if [[ -f tests/load/load.mjs ]]; then
    configure_native
    build "$NATIVE_DIR" parley_server
    say "-- node tests/load/load.mjs --binary build/native/parley_server"
    node --experimental-websocket --no-warnings tests/load/load.mjs \
      --binary "$NATIVE_DIR/parley_server"
    ran=1
  fi
  if [[ -f tests/bench/browser/startup.mjs ]]; then
    ensure_npm_deps
    build_dist
    say "-- node tests/bench/browser/startup.mjs"
    node tests/bench/browser/startup.mjs
    ran=1
  fi
  print_sizes
  ((ran)) || return $SKIP
}

# ----------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------
ensure_deps
# npm packages before any build: the wasm build uses the Closure compiler from npm when
# it is there, so every tier configures the same way.
[[ "${PARLEY_NO_INSTALL:-0}" == 1 ]] || ensure_npm_deps

passed=0 failed=0 skipped=0
report=()
for t in "${tiers[@]}"; do
  say ""
  say "==================== tier: $t ===================="
  start=$SECONDS
  set +e
  (
    set -euo pipefail
    "tier_${t//-/_}"
  )
  rc=$?
  set -e
  secs=$((SECONDS - start))
  if ((rc == 0)); then
    passed=$((passed + 1)); report+=("$t: passed (${secs}s)")
  elif ((rc == SKIP)) && { ((!explicit)) || [[ "$t" == bench ]]; }; then
    skipped=$((skipped + 1)); report+=("$t: skipped, nothing to run")
  else
    failed=$((failed + 1))
    ((rc == SKIP)) && report+=("$t: FAILED, requested but nothing to run") ||
      report+=("$t: FAILED (exit $rc, ${secs}s)")
  fi
done

if ((${#tiers[@]} == 1)); then
  # Single tier: its own output stays last (tests/run.sh sim ends with the sim line).
  ((failed == 0)) || exit 1
  exit 0
fi

say ""
say "==================== summary ===================="
for line in "${report[@]}"; do say "  $line"; done
if ((skipped)); then
  say "run: $passed passed, $failed failed, $skipped skipped"
else
  say "run: $passed passed, $failed failed"
fi
((failed == 0))

#!/usr/bin/env bash
# Parley's demo: installs what is missing, builds, and serves the store page, the agent
# console and the widget from the reference server with its embedded SQLite store.
#
#   demo/run.sh              http://127.0.0.1:8080
#   demo/run.sh --port 9000  another port
#   demo/run.sh --fresh      start from an empty database (otherwise the demo's data is kept
#                            in build/demo-data/parley.db across runs)
#
# Ctrl-C stops the server cleanly (it answers what is in flight, closes the WebSockets and
# checkpoints the database).
#
# Environment: PARLEY_JOBS (build parallelism, default 2), PARLEY_NO_INSTALL=1 (skip the
# package check).
set -euo pipefail

# Paths, the environment, and the install and build helpers shared with tests/run.sh.
# shellcheck source=tests/lib/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/setup.sh"

say() { printf '%s\n' "$*"; }
die() { printf 'demo/run.sh: %s\n' "$*" >&2; exit 2; }

port=8080
fresh=0
while (($#)); do
  case "$1" in
    --port)
      (($# >= 2)) || die "--port needs a number"
      port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --fresh) fresh=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see demo/run.sh --help)" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "--port wants a port number, got '$port'"

say "==> checking packages"
ensure_deps
say "==> building the server, the widget and the demo (the first time takes a few minutes)"
build_server_and_dist
build_demo

data="$BUILD_DIR/demo-data"
mkdir -p "$data"
if ((fresh)); then rm -f "$data"/parley.db "$data"/parley.db-wal "$data"/parley.db-shm; fi

"$NATIVE_DIR/parley_server" --port "$port" --db "$data/parley.db" --config demo/server.json \
  --demo "$BUILD_DIR/demo" --static "$BUILD_DIR/dist" --quiet &
server=$!
stop() {
  trap - INT TERM
  say ""
  say "==> stopping the server"
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

for _ in $(seq 1 100); do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server" || true
    die "the server did not start (is port $port in use? try --port N)"
  fi
  node -e "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" \
    "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done

cat <<EOF

  Parley demo is running.

    Customer site   http://127.0.0.1:$port/
    Agent console   http://127.0.0.1:$port/agent.html   (you are Grace; Alan is the colleague)

  Start the guided tour from the bar at the top of the customer site.
  Ctrl-C stops it.

EOF
wait "$server"

# Shared by tests/run.sh and demo/run.sh (sourced, not run): the build paths and
# environment, installing what is missing (Debian packages, npm packages from
# package-lock.json) and building. The caller defines say() and sources this first; it moves
# to the repository root.
# Environment: PARLEY_JOBS (build parallelism, default 2), PARLEY_NO_INSTALL=1 skips the
# package checks.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD_DIR="$ROOT/build"
NATIVE_DIR="$BUILD_DIR/native"
WASM_DIR="$BUILD_DIR/wasm"
JOBS="${PARLEY_JOBS:-2}"
# emcc's JS optimizer needs acorn, which Debian installs under /usr/share/nodejs.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
export DEBIAN_FRONTEND=noninteractive

# ----------------------------------------------------------------------------------------
# Dependencies (Debian bookworm), installed only when missing
# ----------------------------------------------------------------------------------------
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -E "$@"
  else say "run.sh: need root (or sudo) to run: $*" >&2; return 1
  fi
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_deps() {
  [[ "${PARLEY_NO_INSTALL:-0}" == 1 ]] && return 0
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "run.sh: not a Debian system; not installing packages (need: cmake g++ nlohmann-json3-dev rapidjson-dev catch2 libbenchmark-dev emscripten nodejs librestinio-dev libasio-dev libsqlite3-dev libssl-dev libhowardhinnant-date-dev tzdata sqlite3 chromium prosody)" >&2
    return 0
  fi
  local missing=() p
  # The server: restinio (HTTP + WebSocket) on standalone asio, SQLite, OpenSSL (HMAC for
  # tokens and JWTs), Howard Hinnant's date/tz on the system tz database; the sqlite3 CLI
  # plants a fault in the durability test. Prosody: the XMPP server the xmpp tier syncs
  # through (tests/xmpp/lib/prosody.mjs starts its own on loopback; the package's own
  # service is never started here).
  for p in cmake g++ nlohmann-json3-dev rapidjson-dev catch2 libbenchmark-dev emscripten \
    librestinio-dev libasio-dev libsqlite3-dev libssl-dev libhowardhinnant-date-dev tzdata \
    sqlite3 chromium prosody; do
    pkg_installed "$p" || missing+=("$p")
  done
  # Node may come from Debian or from another nodejs package that bundles npm (whose
  # nodejs conflicts with Debian's npm), so check the commands, not the packages.
  local want_npm=0
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || want_npm=1
  if ((${#missing[@]} == 0 && want_npm == 0)); then return 0; fi

  say "==> installing missing packages: ${missing[*]-}$( ((want_npm)) && printf ' npm')"
  as_root apt-get update -qq
  if ((${#missing[@]})); then
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ((want_npm)) && ! command -v npm >/dev/null 2>&1; then
    as_root apt-get install -y -qq --no-install-recommends npm ||
      say "run.sh: warning: could not install npm (not needed by these tiers)" >&2
  fi
}

# npm packages (esbuild, playwright-core, typescript) from package-lock.json, once per
# lock file: node_modules/.parley-lock holds a copy of the lock it was installed from.
ensure_npm_deps() {
  [[ -f package-lock.json ]] || return 0
  if [[ -d node_modules ]] && cmp -s package-lock.json node_modules/.parley-lock; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { say "run.sh: npm not found" >&2; return 1; }
  say "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.parley-lock
}

# ----------------------------------------------------------------------------------------
# Build helpers
# ----------------------------------------------------------------------------------------
have() { compgen -G "$1" >/dev/null; }

# Quiet configure: the log is printed only when it fails. Re-run every time so that new
# source files and new targets are always picked up.
run_logged() {
  local log="$1"; shift
  mkdir -p "$(dirname "$log")"
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    say "run.sh: command failed: $*" >&2
    return 1
  fi
}

configure_native() {
  run_logged "$NATIVE_DIR/configure.log" \
    cmake -S "$ROOT" -B "$NATIVE_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
}

configure_wasm() {
  command -v emcmake >/dev/null 2>&1 || { say "run.sh: emcmake not found (apt-get install emscripten)" >&2; return 1; }
  local node
  node="$(command -v node)" || { say "run.sh: node not found" >&2; return 1; }
  run_logged "$WASM_DIR/configure.log" \
    emcmake cmake -S "$ROOT" -B "$WASM_DIR" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=$node;--no-experimental-fetch"
}

build() { # build <dir> <target...>
  local dir="$1"; shift
  cmake --build "$dir" -j"$JOBS" --target "$@"
}


# The browser distributable: the wasm core (web flavour) and the esbuild bundles.
build_dist() {
  configure_wasm
  build "$WASM_DIR" parley_core_web
  node web/build.mjs --wasm-dir "$WASM_DIR" --out "$BUILD_DIR/dist"
}

# What every browser test and the demo serve: the reference server and build/dist.
build_server_and_dist() {
  ensure_npm_deps
  configure_native
  build "$NATIVE_DIR" parley_server
  build_dist
}

# The demo (demo/build.mjs): the store page, the agent console, into build/demo.
build_demo() {
  node demo/build.mjs --out "$BUILD_DIR/demo"
}

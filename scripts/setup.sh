#!/usr/bin/env bash
# Installs everything Stoke needs to build, run and test on Debian 12. Idempotent:
# packages already present are skipped, so a second run costs a few seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  # libraries (see README "Dependencies")
  nlohmann-json3-dev libsqlite3-dev libcpp-httplib-dev libssl-dev libyaml-cpp-dev
  libcli11-dev libspdlog-dev prometheus-cpp-dev libfmt-dev libarchive-dev libargon2-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorch-dev libgloo-dev
  # tests, examples and side-by-side benchmarks
  python3 python3-pytest python3-numpy python3-torch python3-sklearn python3-optuna python3-yaml
  sqlite3 curl procps
)
if [[ "${STOKE_SETUP_UI:-1}" == "1" ]]; then
  PACKAGES+=(chromium)
  # Node.js may come from another source that bundles npm (and conflicts with Debian's npm package).
  if ! command -v node >/dev/null; then PACKAGES+=(nodejs); fi
  if ! command -v npm >/dev/null; then PACKAGES+=(npm); fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

if (( ${#missing[@]} )); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Web UI test driver (playwright-core drives Debian's chromium; it never downloads a browser).
if [[ "${STOKE_SETUP_UI:-1}" == "1" && -f "$ROOT/web/package.json" ]]; then
  if [[ ! -d "$ROOT/web/node_modules" || "$ROOT/web/package.json" -nt "$ROOT/web/node_modules" ]]; then
    echo "setup: installing npm packages for web/"
    (cd "$ROOT/web" && npm install --no-audit --no-fund --loglevel=error)
    touch "$ROOT/web/node_modules"
  fi
fi

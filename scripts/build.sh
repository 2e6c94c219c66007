#!/usr/bin/env bash
# Configures and builds Stoke into build/ (Ninja, ccache when present). Idempotent and incremental.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STOKE_BUILD_DIR:-$ROOT/build}"
JOBS="${STOKE_BUILD_JOBS:-$(nproc)}"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${STOKE_BUILD_TYPE:-RelWithDebInfo}"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
# The web UI: copy sources and vendored npm modules into web/dist (served by `stoke server`).
if [[ -d "$ROOT/web/node_modules" ]] && command -v node >/dev/null; then
  node "$ROOT/web/build.mjs"
fi

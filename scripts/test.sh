#!/usr/bin/env bash
# Sets up (Debian packages, npm), builds, and runs the whole test suite: C++ unit tests and the
# end-to-end tests (pytest against real `stoke` processes, playwright for the UI), all through ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/build.sh"
cd "${STOKE_BUILD_DIR:-$ROOT/build}"
ctest --output-on-failure --timeout 900 -j "${STOKE_TEST_JOBS:-2}" "$@"

#!/usr/bin/env bash
# Serving benchmark: stoke-serve with dynamic batching vs stoke-serve at batch size 1 vs a plain
# Python server, same model and load, one run (see bench.py). Needs wrk (Debian package) and
# python3-torch. STOKE_SERVE_BIN overrides the replica binary (default build/src/serving/stoke-serve).
# Usage: bench/serving/run.sh [--duration 10 --connections 64 --max-batch 32 --device cuda ...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if ! command -v wrk >/dev/null; then
  echo "run.sh: needs wrk (apt-get install wrk)" >&2
  exit 1
fi
SERVE="${STOKE_SERVE_BIN:-$ROOT/build/src/serving/stoke-serve}"
if [[ ! -x "$SERVE" ]]; then
  echo "run.sh: $SERVE not found; build it (cmake --build build --target stoke-serve) or set STOKE_SERVE_BIN" >&2
  exit 1
fi
exec /usr/bin/python3 "$HERE/bench.py" --serve-bin "$SERVE" "$@"

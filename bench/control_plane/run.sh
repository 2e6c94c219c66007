#!/usr/bin/env bash
# Control-plane benchmark, Stoke vs Slurm side by side (see bench.py for what is measured).
# Usage: bench/control_plane/run.sh [bench.py options]   e.g. --latency-samples 100 --submissions 1000
# Needs root (slurmd runs jobs, munged/slurmctld start on loopback from a temp dir). Installs the Debian
# packages slurm-wlm, munge and wrk when missing. STOKE_BIN overrides the stoke binary (default build/).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

missing=()
command -v sbatch >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: needs root to install ${missing[*]} and to run slurmd" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

export STOKE_BIN="${STOKE_BIN:-$ROOT/build/src/apps/stoke}"
# Debian's python: the standard library is all bench.py needs.
exec /usr/bin/python3 "$HERE/bench.py" --stoke-bin "$STOKE_BIN" "$@"

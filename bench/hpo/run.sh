#!/usr/bin/env bash
# Side-by-side HPO benchmark: Stoke's hpo library vs Optuna 3.1, same objectives, same budgets.
#   bench/hpo/run.sh                 # 10 seeds, 200 trials (~35 min on 2 shared cores, mostly Optuna)
#   SEEDS=3 TRIALS=60 bench/hpo/run.sh
# Env: BUILD_DIR (default build-hpo, configured like the main build), HPO_BENCH (a built hpo_bench
# binary, skips the build), OUT_DIR (results), PYTHON (default /usr/bin/python3 with optuna).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$root/build-hpo}"
python="${PYTHON:-/usr/bin/python3}"
seeds="${SEEDS:-10}"
trials="${TRIALS:-200}"
gp_trials="${GP_TRIALS:-$trials}"
fidelity_seeds="${FIDELITY_SEEDS:-30}"  # cheap, and time-to-target is noisy
out="${OUT_DIR:-$build/bench-hpo}"
mkdir -p "$out"

bench="${HPO_BENCH:-}"
if [[ -z "$bench" ]]; then
  if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build" --target hpo_bench -j2 >/dev/null
  bench="$(find "$build" -name hpo_bench -type f -perm -u+x | head -1)"
fi
"$python" -c "import optuna; assert optuna.__version__.startswith('3.'), optuna.__version__"

results="$out/results.jsonl"
: >"$results"
echo "== overhead" >&2
"$bench" overhead >>"$results"
"$python" "$here/optuna_bench.py" overhead >>"$results"
echo "== quality ($seeds seeds, $trials trials)" >&2
"$bench" quality --seeds "$seeds" --trials "$trials" --gp-trials "$gp_trials" >>"$results"
"$python" "$here/optuna_bench.py" quality --seeds "$seeds" --trials "$trials" >>"$results"
echo "== multi-fidelity ($fidelity_seeds seeds)" >&2
"$bench" fidelity --seeds "$fidelity_seeds" >>"$results"
"$python" "$here/optuna_bench.py" fidelity --seeds "$fidelity_seeds" >>"$results"
"$python" "$here/report.py" "$results" | tee "$out/report.md"

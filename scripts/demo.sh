#!/usr/bin/env bash
# Sets up and builds Stoke, starts `stoke server` on the embedded defaults (SQLite in ./stoke-data,
# the local launcher, all cores as CPU slots, GPUs auto-detected), runs a demo job through it with the
# CLI, and leaves the server running. Idempotent: re-running reuses the data dir and its admin token.
#   STOKE_PORT (default 8080)   STOKE_DATA_DIR (default ./stoke-data)   STOKE_DEMO_EXIT=1 to stop after the demo
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${STOKE_PORT:-8080}"
DATA_DIR="${STOKE_DATA_DIR:-$ROOT/stoke-data}"
STOKE_UI_BUILD="${STOKE_UI_BUILD:-1}" bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/build.sh"
STOKE="${STOKE_BUILD_DIR:-$ROOT/build}/src/apps/stoke"

if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
  echo "demo: port $PORT is already serving; set STOKE_PORT to use another" >&2
  exit 1
fi
mkdir -p "$DATA_DIR"
"$STOKE" server --port "$PORT" --data-dir "$DATA_DIR" >"$DATA_DIR/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER_PID 2>/dev/null || { cat "$DATA_DIR/server.log"; exit 1; }
  sleep 0.1
done
export STOKE_URL="http://127.0.0.1:$PORT" STOKE_TOKEN="$(cat "$DATA_DIR/admin.token")"

echo "== submitting the quickstart job (SGD on y = 3x + 2, metrics reported to the server)"
JOB=$("$STOKE" submit --name quickstart --cpus 1 --hparams '{"lr": 0.1, "steps": 400}' \
      --dir "$ROOT/examples/quickstart" -- /usr/bin/python3 train.py)
echo "job $JOB submitted"
"$STOKE" logs -f "$JOB"
"$STOKE" show "$JOB"
"$STOKE" metrics "$JOB"
"$STOKE" result "$JOB" -o "$DATA_DIR/demo-result-$JOB"
echo "result files: $DATA_DIR/demo-result-$JOB"
"$STOKE" ls

cat <<MSG

Stoke is running.
  UI and API:  http://127.0.0.1:$PORT/   (REST under /api/v1, docs/api.md)
  admin token: $DATA_DIR/admin.token
  server log:  $DATA_DIR/server.log
  CLI:         export STOKE_URL=$STOKE_URL STOKE_TOKEN=\$(cat $DATA_DIR/admin.token); $STOKE ls
MSG
if [[ "${STOKE_DEMO_EXIT:-0}" == "1" ]]; then exit 0; fi
echo "Press Ctrl-C to stop the server."
trap - EXIT
wait $SERVER_PID

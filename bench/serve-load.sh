#!/usr/bin/env bash
# Load test of `euterpe serve` with wrk (Debian: apt-get install wrk): the health route and the
# job-status route, which every polling client hits. Starts a server on the bundled model, submits
# one job, runs wrk against both routes, prints wrk's report and stops the server with SIGTERM.
#   bench/serve-load.sh [SECONDS] [CONNECTIONS] [THREADS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-20}"; CONNS="${2:-64}"; THREADS="${3:-2}"
PORT="${EUTERPE_LOAD_PORT:-18080}"
command -v wrk >/dev/null || { echo "serve-load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
"$ROOT/euterpe" devices >/dev/null   # builds the jar if needed
log="$(mktemp)"
"$ROOT/euterpe" serve --port "$PORT" --device cpu --workers 1 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$log" >&2; exit 1; }
id="$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/audio/generations" -H 'Content-Type: application/json' \
      -d '{"prompt":"load test","seconds":0.064,"steps":2,"seed":1}' | sed 's/.*"id":"\([^"]*\)".*/\1/')"
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNS -d${SECS}s"
echo "== GET /healthz"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$PORT/healthz"
echo "== GET /v1/jobs/$id"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$PORT/v1/jobs/$id"
echo "== /metrics after the run"
curl -sf "http://127.0.0.1:$PORT/metrics" | grep -E '^euterpe_(http_requests|response_bytes)_total'

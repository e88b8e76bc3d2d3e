#!/usr/bin/env bash
# Starts `./flywheel serve` on a loopback port with --parallel P (default 16), runs serve_load.py at 1, 4, 8 and 16
# streaming clients, then stops the server. Bounded: every client sends REQUESTS completions of MAX_TOKENS tokens.
# usage: bench/serve-load/run.sh [MODEL] [PARALLEL]   (env: PORT, REQUESTS, MAX_TOKENS, LEVELS, CTX, CAPTURE, ROUNDS,
#        HANG_UP_AFTER)
# HANG_UP_AFTER=N makes it a disconnect burst: every second client hangs up after N events, and after each level the
# server's KV cache must be free again (serve_load.py --hang-up-after; try LEVELS=16).
# The server keeps its store (captured traffic) in a temporary folder, removed at the end.
# CAPTURE=compare starts two servers on the same model, one with traffic capture on and one with --capture off,
# alternates ROUNDS (default 3) rounds of every level between them, and prints the throughput ratio on/off.
# On a small machine the clients steal cores from the server and time tokens late; SERVER_CPUS=0 CLIENT_CPUS=1 pins
# the server (with DOTNET_PROCESSOR_COUNT set to match, so its kernel pool does not oversubscribe) and the clients
# to separate cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$root/../shared/models/stories260K/stories260K.gguf}"
parallel="${2:-16}"
port="${PORT:-18080}"
capture="${CAPTURE:-on}"
server_pin=()
client_pin=()
if [ -n "${SERVER_CPUS:-}" ]; then
  server_pin=(taskset -c "$SERVER_CPUS")
  export DOTNET_PROCESSOR_COUNT="$(taskset -c "$SERVER_CPUS" nproc)"
fi
[ -n "${CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$CLIENT_CPUS")
data="$(mktemp -d)"
servers=()
cleanup() {
  for s in "${servers[@]}"; do kill "$s" 2>/dev/null; wait "$s" 2>/dev/null || true; done
  rm -rf "$data"
}
trap cleanup EXIT
# Builds once before the servers start, so two servers do not race to build.
"$root/flywheel" --help >/dev/null

start() { # start PORT DATA_DIR CAPTURE
  "${server_pin[@]}" "$root/flywheel" serve --model "$model" --port "$1" --parallel "$parallel" --ctx "${CTX:-256}" \
    --data "$2" --capture "$3" >/dev/null 2>&1 &
  servers+=($!)
}
wait_ready() { # wait_ready PORT
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    for s in "${servers[@]}"; do kill -0 "$s" 2>/dev/null || { echo "serve-load: a server exited" >&2; exit 1; }; done
    sleep 0.5
  done
  echo "serve-load: the server on port $1 did not get ready" >&2
  exit 1
}
records() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from traffic').fetchone()[0])" "$1/flywheel.db"; }

if [ "$capture" = compare ]; then
  mkdir -p "$data/on" "$data/off"
  start "$port" "$data/on" on
  start "$((port + 1))" "$data/off" off
  wait_ready "$port"
  wait_ready "$((port + 1))"
  echo "model: $model  --parallel $parallel  cores: $(nproc)  server cpus: ${SERVER_CPUS:-all}  client cpus: ${CLIENT_CPUS:-all}  capture on (port $port) vs off (port $((port + 1)))"
  "${client_pin[@]}" python3 "$root/bench/serve-load/serve_load.py" --url "http://127.0.0.1:$port" --compare "http://127.0.0.1:$((port + 1))" \
    --ignore-eos --labels "capture on,capture off" --rounds "${ROUNDS:-3}" --levels "${LEVELS:-1,4,8,16}" --requests "${REQUESTS:-4}" --max-tokens "${MAX_TOKENS:-64}"
  echo "records captured: $(records "$data/on") with capture on, $(records "$data/off") with capture off"
else
  start "$port" "$data" "$capture"
  wait_ready "$port"
  echo "model: $model  --parallel $parallel  cores: $(nproc)  server cpus: ${SERVER_CPUS:-all}  client cpus: ${CLIENT_CPUS:-all}  capture $capture"
  "${client_pin[@]}" python3 "$root/bench/serve-load/serve_load.py" --url "http://127.0.0.1:$port" --levels "${LEVELS:-1,4,8,16}" \
    --requests "${REQUESTS:-4}" --max-tokens "${MAX_TOKENS:-64}" ${HANG_UP_AFTER:+--ignore-eos --hang-up-after "$HANG_UP_AFTER"}
fi

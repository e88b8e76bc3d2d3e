#!/usr/bin/env bash
# Starts `./flywheel serve` on a loopback port with --parallel P (default 16), runs serve_load.py at 1, 4, 8 and 16
# streaming clients, then stops the server. Bounded: every client sends REQUESTS completions of MAX_TOKENS tokens.
# usage: bench/serve-load/run.sh [MODEL] [PARALLEL]   (env: PORT, REQUESTS, MAX_TOKENS, LEVELS, CTX)
# On a small machine the clients steal cores from the server and time tokens late; SERVER_CPUS=0 CLIENT_CPUS=1 pins
# the server (with DOTNET_PROCESSOR_COUNT set to match, so its kernel pool does not oversubscribe) and the clients
# to separate cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-$root/../shared/models/stories260K/stories260K.gguf}"
parallel="${2:-16}"
port="${PORT:-18080}"
server_pin=()
client_pin=()
if [ -n "${SERVER_CPUS:-}" ]; then
  server_pin=(taskset -c "$SERVER_CPUS")
  export DOTNET_PROCESSOR_COUNT="$(taskset -c "$SERVER_CPUS" nproc)"
fi
[ -n "${CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$CLIENT_CPUS")
"${server_pin[@]}" "$root/flywheel" serve --model "$model" --port "$port" --parallel "$parallel" --ctx "${CTX:-256}" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "serve-load: the server exited" >&2; exit 1; }
  sleep 0.5
done
echo "model: $model  --parallel $parallel  cores: $(nproc)  server cpus: ${SERVER_CPUS:-all}  client cpus: ${CLIENT_CPUS:-all}"
"${client_pin[@]}" python3 "$root/bench/serve-load/serve_load.py" --url "http://127.0.0.1:$port" --levels "${LEVELS:-1,4,8,16}" \
  --requests "${REQUESTS:-4}" --max-tokens "${MAX_TOKENS:-64}"

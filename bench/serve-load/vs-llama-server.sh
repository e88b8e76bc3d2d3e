#!/usr/bin/env bash
# The same streaming load against `flywheel serve` and an existing llama-server, on the same file with the same
# threads, in one run (issue #6). Flywheel first gets the whole sweep alone (default 1, 4, 8 and 16 clients). Then
# llama-server (-np 8) starts beside it and the two get 1 and 8 clients in alternating rounds (A B, B A, ...; default
# 3 rounds each), so a change in the machine's load (a shared machine) falls on both alike. Every request asks for
# exactly MAX_TOKENS tokens (ignore_eos) at temperature 0. Prints the sweep and the alternating table, then, from the
# medians of the alternating rounds, the aggregate tok/s at 8 clients of both and their ratio, and each server's
# batching gain (aggregate at 8 clients ÷ at 1).
# usage: bench/serve-load/vs-llama-server.sh --llama-server PATH --model FILE [--threads 2] [--levels 1,4,8,16]
#          [--requests 2] [--max-tokens 128] [--parallel 16] [--ctx 512] [--rounds 3]
# env: LLAMA_SERVER (instead of --llama-server), PORT (default 18090; llama-server gets PORT+1)
# llama-server is not built or downloaded here: pass the path of one you built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
llama_server="${LLAMA_SERVER:-}" model="" threads=2 levels=1,4,8,16 requests=2 max_tokens=128 parallel=16 ctx=512 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-server) llama_server="$2"; shift 2 ;;
    --model) model="$(realpath -m "$2")"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --levels) levels="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --max-tokens) max_tokens="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --ctx) ctx="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "vs-llama-server: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$llama_server" ] || { echo "vs-llama-server: pass --llama-server PATH (or LLAMA_SERVER), an executable llama-server" >&2; exit 2; }
[ -f "$model" ] || { echo "vs-llama-server: pass --model FILE, an existing GGUF file" >&2; exit 2; }
port="${PORT:-18090}"
out="$(mktemp -d)"
fw="" ls=""
stop() { # stop PID: TERM, then KILL after 10 s: a server that ignores TERM must not hang the run
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
trap 'stop "$fw"; stop "$ls"; rm -rf "$out"' EXIT
wait_ready() { # url pid log
  for _ in $(seq 1 1200); do
    curl -sf "$1/health" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "vs-llama-server: the server exited; its log:" >&2; tail -20 "$3" >&2; exit 1; }
    sleep 0.5
  done
  echo "vs-llama-server: $1 was not ready after 10 minutes" >&2; exit 1
}
load() { # url levels json
  python3 "$here/serve_load.py" --url "$1" --levels "$2" --requests "$requests" --max-tokens "$max_tokens" --ignore-eos --json "$3"
}

# Flywheel's kernel pool sizes itself from the processor count unless serve takes --threads.
fw_threads=()
if "$root/flywheel" serve --help 2>/dev/null | grep -q -- '--threads'; then fw_threads=(--threads "$threads"); how="--threads $threads"
else export DOTNET_PROCESSOR_COUNT="$threads"; how="DOTNET_PROCESSOR_COUNT=$threads"; fi
echo "model: $model  threads: $threads  requests per client: $requests  tokens per request: $max_tokens (ignore_eos)  cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== flywheel serve --parallel $parallel --ctx $ctx ($how), alone"
"$root/flywheel" serve --model "$model" --port "$port" --parallel "$parallel" --ctx "$ctx" "${fw_threads[@]}" > "$out/flywheel.log" 2>&1 &
fw=$!
wait_ready "http://127.0.0.1:$port" "$fw" "$out/flywheel.log"
load "http://127.0.0.1:$port" "$levels" "$out/flywheel.json"
unset DOTNET_PROCESSOR_COUNT

# llama-server's -c is the KV cache of all slots together: ctx positions for each of the 8.
echo "== llama-server -np 8 -t $threads -tb $threads -c $((8 * ctx)) beside it: 1 and 8 clients, $rounds alternating rounds"
"$llama_server" -m "$model" --host 127.0.0.1 --port "$((port + 1))" -np 8 -t "$threads" -tb "$threads" -c "$((8 * ctx))" > "$out/llama-server.log" 2>&1 &
ls=$!
wait_ready "http://127.0.0.1:$((port + 1))" "$ls" "$out/llama-server.log"
python3 "$here/serve_load.py" --url "http://127.0.0.1:$port" --compare "http://127.0.0.1:$((port + 1))" --labels "flywheel,llama-server" \
  --levels 1,8 --rounds "$rounds" --requests "$requests" --max-tokens "$max_tokens" --ignore-eos --json "$out/compare.json"
stop "$fw"; fw=""
stop "$ls"; ls=""

python3 - "$out/flywheel.json" "$out/compare.json" <<'PY'
import json, sys
sweep = json.load(open(sys.argv[1]))
compare = json.load(open(sys.argv[2]))
med = {r["clients"]: r["tok_s"] for r in compare["levels"]}  # clients -> [flywheel, llama-server] medians
def gain(i):
    return f"{med[8][i] / med[1][i]:.2f}x" if 1 in med and 8 in med and med[1][i] else "n/a"
if 8 in med:
    print(f"aggregate at 8 clients (medians of the alternating rounds): flywheel {med[8][0]:.1f} tok/s, "
          f"llama-server {med[8][1]:.1f} tok/s, ratio {med[8][0] / med[8][1]:.2f}x")
print(f"batching gain (aggregate at 8 / at 1, alternating medians): flywheel {gain(0)}, llama-server {gain(1)}")
errors = sum(r["errors"] for r in sweep) + compare["errors"]
if errors:
    print(f"errors: {errors} requests failed (see the tables)")
    sys.exit(1)
PY

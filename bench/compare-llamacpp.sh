#!/usr/bin/env bash
# Times Flywheel (reference kernels and the default SIMD set) and llama.cpp's llama-bench on the same GGUF files in
# one run, alternating the three for several rounds so a noisy shared machine hits all of them alike, and prints
# the medians and the ratios. Usage:
#   bench/compare-llamacpp.sh --llama-bench PATH [--threads 2] [--pp 128] [--tg 64] [--rounds 3] [--no-reference] MODEL.gguf...
# llama-bench is not built or downloaded here: pass the path of one you have.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
llama_bench="" threads=2 pp=128 tg=64 rounds=3 reference=1 models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --llama-bench) llama_bench="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --pp) pp="$2"; shift 2 ;;
    --tg) tg="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --no-reference) reference=0; shift ;;
    *) models+=("$1"); shift ;;
  esac
done
[ -x "$llama_bench" ] || { echo "pass --llama-bench PATH (an executable llama-bench)" >&2; exit 2; }
[ ${#models[@]} -gt 0 ] || { echo "name at least one GGUF file" >&2; exit 2; }
results="$(mktemp)"
for round in $(seq 1 "$rounds"); do
  for m in "${models[@]}"; do
    if [ "$reference" = 1 ]; then
      FLYWHEEL_KERNELS=reference "$root/flywheel" bench -m "$m" -t "$threads" --pp "$pp" --tg "$tg" --reps 3 --json 2>/dev/null \
        | tail -1 | sed "s/^/reference\t$(basename "$m")\t/" >> "$results"
    fi
    "$root/flywheel" bench -m "$m" -t "$threads" --pp "$pp" --tg "$tg" --reps 3 --json 2>/dev/null \
      | tail -1 | sed "s/^/flywheel\t$(basename "$m")\t/" >> "$results"
    "$llama_bench" -m "$m" -t "$threads" -p "$pp" -n "$tg" -r 3 -o json 2>/dev/null \
      | python3 -c 'import json,sys; r=json.load(sys.stdin); d={("pp" if x["n_prompt"] else "tg"): x["avg_ts"] for x in r}; print(json.dumps({"pp_tok_s": d.get("pp",0), "tg_tok_s": d.get("tg",0)}))' \
      | sed "s/^/llama.cpp\t$(basename "$m")\t/" >> "$results"
  done
done
python3 - "$results" "$threads" "$pp" "$tg" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    who, model, js = line.rstrip("\n").split("\t", 2)
    r = json.loads(js)
    rows.setdefault((model, who), []).append((r["pp_tok_s"], r["tg_tok_s"]))
print(f"threads={sys.argv[2]} pp={sys.argv[3]} tg={sys.argv[4]}; medians over rounds (tok/s); ratios are Flywheel / llama.cpp")
print(f"{'model':32} {'set':10} {'pp':>10} {'tg':>10} {'pp ratio':>9} {'tg ratio':>9}")
for model in sorted({m for m, _ in rows}):
    base = rows.get((model, "llama.cpp"))
    bpp = statistics.median(p for p, _ in base) if base else None
    btg = statistics.median(t for _, t in base) if base else None
    for who in ("reference", "flywheel", "llama.cpp"):
        if (model, who) not in rows: continue
        pp = statistics.median(p for p, _ in rows[(model, who)])
        tg = statistics.median(t for _, t in rows[(model, who)])
        print(f"{model:32} {who:10} {pp:10.1f} {tg:10.1f} {pp / bpp if bpp else float('nan'):9.3f} {tg / btg if btg else float('nan'):9.3f}")
PY
rm -f "$results"

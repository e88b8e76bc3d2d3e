#!/usr/bin/env python3
"""Prints compare-llamacpp's table from its raw results file (lines of: who, model, JSON).

Bytes read per generated token: every weight tensor once, except that an untied token embedding is only looked up
(one row, left out); a tied one is the output matrix and read whole. The bandwidth limit is bandwidth ÷ those bytes,
and "% limit" is tg ÷ that limit. Figures are medians over the rounds; ratios are Flywheel ÷ llama.cpp.
"""
import argparse, json, os, statistics

# (elements per block, bytes per block), ggml's type traits.
BLOCKS = {"F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22),
          "Q5_1": (32, 24), "Q8_0": (32, 34), "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144),
          "Q5_K": (256, 176), "Q6_K": (256, 210), "IQ4_NL": (32, 18), "IQ4_XS": (256, 136)}


def bytes_per_token(tensors):
    names = {t["name"] for t in tensors}
    total = 0
    for t in tensors:
        if t["name"] == "token_embd.weight" and "output.weight" in names:
            continue
        block, size = BLOCKS[t["type"]]
        n = 1
        for d in t["shape"]:
            n *= d
        total += n // block * size
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for k in ("threads", "pp", "tg", "reps", "rounds"):
        ap.add_argument(f"--{k}")
    args = ap.parse_args()
    runs, bandwidth, layout, extra = {}, [], {}, {}
    for line in open(args.results):
        who, model, js = line.rstrip("\n").split("\t", 2)
        r = json.loads(js)
        if who == "bandwidth":
            bandwidth.append(r["bandwidth_gb_s"])
        elif who == "layout":
            layout[model] = bytes_per_token(r["tensors"])
        else:
            runs.setdefault((model, who), []).append(r)
            if who == "llama.cpp":
                extra[model] = r
    bw = statistics.median(bandwidth)
    print(f"threads={args.threads} pp={args.pp} tg={args.tg}, median of {args.reps} reps per run and of {args.rounds} rounds; "
          f"tok/s; ratios are Flywheel / llama.cpp")
    print(f"memory read bandwidth: {bw:.2f} GB/s (median of {len(bandwidth)} measurements: "
          f"{', '.join(f'{x:.2f}' for x in bandwidth)})")
    if extra:
        e = next(iter(extra.values()))
        print(f"llama.cpp: {e['library']}, CPU variant {e['cpu_variant']}, threads {e['threads']}, "
              f"flash attention {e['flash_attention']}, batch {e['batch_size']}")
    head = f"{'model':30} {'engine':11} {'pp':>8} {'tg':>7} {'pp ratio':>8} {'tg ratio':>8} {'MB/tok':>7} {'limit':>6} {'% limit':>7}"
    print(head)
    print("-" * len(head))
    cross = []
    versus_bench = []
    for model in sorted({m for m, _ in runs}):
        base = runs.get((model, "llama.cpp"))
        bpp = statistics.median(r["pp_tok_s"] for r in base) if base else None
        btg = statistics.median(r["tg_tok_s"] for r in base) if base else None
        mb = layout.get(model)
        limit = bw * 1e9 / mb if mb else None
        for who in ("flywheel", "llama.cpp", "reference", "llama-bench"):
            rs = runs.get((model, who))
            if not rs:
                continue
            pp = statistics.median(r["pp_tok_s"] for r in rs)
            tg = statistics.median(r["tg_tok_s"] for r in rs)
            ours = who in ("flywheel", "reference")
            ratio_pp = f"{pp / bpp:8.3f}" if bpp and ours else f"{'':8}"
            ratio_tg = f"{tg / btg:8.3f}" if btg and ours else f"{'':8}"
            pct = f"{100 * tg / limit:6.1f}%" if limit else ""
            print(f"{os.path.basename(model):30} {who:11} {pp:8.2f} {tg:7.2f} {ratio_pp} {ratio_tg} "
                  f"{mb / 1e6 if mb else 0:7.1f} {limit or 0:6.1f} {pct:>7}")
            if who == "llama-bench" and bpp and btg:
                cross.append(f"{os.path.basename(model)}: pp {pp / bpp:.3f}x, tg {tg / btg:.3f}x")
            if who == "llama-bench" and (model, "flywheel") in runs:
                # The npm library's tg carries per-token overhead a hand-built llama-bench does not, so the
                # Flywheel / llama-bench ratio is the stricter one for tg.
                ours = runs[(model, "flywheel")]
                fpp = statistics.median(r["pp_tok_s"] for r in ours)
                ftg = statistics.median(r["tg_tok_s"] for r in ours)
                versus_bench.append(f"{os.path.basename(model)}: pp {fpp / pp:.3f}x, tg {ftg / tg:.3f}x")
    if cross:
        print("cross-check, llama-bench / node-llama-cpp: " + "; ".join(cross))
    if versus_bench:
        print("flywheel / llama-bench: " + "; ".join(versus_bench))
    print("pp, tg: tok/s. MB/tok: weight bytes read per generated token. limit: bandwidth ÷ MB/tok (tok/s). "
          "llama-bench rows (if any) cross-check the npm library with a hand-built llama-bench; one run each.")


if __name__ == "__main__":
    main()

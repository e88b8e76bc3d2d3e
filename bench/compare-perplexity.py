#!/usr/bin/env python3
"""Perplexity, Flywheel against llama.cpp's llama-perplexity, on the same files in one run.

For each MODEL and each --text file it runs `llama-perplexity -m MODEL -f TEXT -c CTX -t THREADS` (the binary is given
with --llama-perplexity; nothing here builds or contains llama.cpp) and `flywheel perplexity --model MODEL --file TEXT
--ctx CTX`, then prints both figures, their relative difference, and whether it is within --tolerance (0.5 %).
--chunks N limits both tools to the first N chunks.

usage: bench/compare-perplexity.py --llama-perplexity PATH --text A.txt [--text B.txt] [--ctx 512] MODEL.gguf ...
"""
import argparse
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-perplexity", required=True)
    ap.add_argument("--flywheel", default="./flywheel")
    ap.add_argument("--text", action="append", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--chunks", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tolerance", type=float, default=0.005)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    chunks = ["--chunks", str(args.chunks)] if args.chunks else []
    failures = 0
    for model in args.models:
        for text in args.text:
            start = time.time()
            ref = subprocess.run([args.llama_perplexity, "-m", model, "-f", text, "-c", str(args.ctx), "-t", str(args.threads)] + chunks,
                                 capture_output=True, text=True)
            ref_seconds = time.time() - start
            m = re.search(r"Final estimate: PPL = ([0-9.]+)", ref.stdout + ref.stderr)
            if not m:
                print(f"{model} {text}: llama-perplexity gave no figure:\n{(ref.stdout + ref.stderr)[-2000:]}")
                failures += 1
                continue
            theirs = float(m.group(1))
            start = time.time()
            out = subprocess.run(args.flywheel.split() + ["perplexity", "--model", model, "--file", text, "--ctx", str(args.ctx),
                                 "--threads", str(args.threads)] + chunks, capture_output=True, text=True)
            our_seconds = time.time() - start
            last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
            if not last.startswith("perplexity: "):
                print(f"{model} {text}: flywheel failed: {out.stderr.strip()}")
                failures += 1
                continue
            ours = float(last.split(": ")[1])
            rel = abs(ours - theirs) / theirs
            ok = rel <= args.tolerance
            failures += not ok
            chunk_line = next((l for l in out.stdout.splitlines() if "chunks of" in l), "")
            print(f"{model.rsplit('/', 1)[-1]}\t{text.rsplit('/', 1)[-1]}\t{chunk_line.split(',')[0]}\tflywheel {ours:.4f} ({our_seconds:.0f} s)"
                  f"\tllama.cpp {theirs:.4f} ({ref_seconds:.0f} s)\trelative {rel * 100:.3f} %\t{'ok' if ok else 'OUTSIDE TOLERANCE'}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

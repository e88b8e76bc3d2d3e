#!/usr/bin/env python3
"""Greedy continuations, Flywheel against llama.cpp, token by token.

For each model and prompt it runs `flywheel run --raw --temperature 0 --max-tokens N --ids` and a reference program
given by --reference: any executable called as `REFERENCE MODEL N PROMPT` that prints one JSON line
{"prompt_ids": [...], "ids": [...], "gaps": [...]} (llama.cpp's greedy ids after the prompt, tokenized with BOS as the
model says and special text not parsed, and the top-1 minus top-2 logit gap at each step). The reference program is
built outside this repository against libllama; nothing here builds or contains llama.cpp.

Prints one line per (model, prompt): identical, or the first step where the ids differ with llama.cpp's logit gap
there (a gap near 0 means the two engines disagree only on a near-tie).

usage: bench/compare-greedy.py --reference PATH [--flywheel ./flywheel] [-n 64] MODEL.gguf ...
"""
import argparse
import json
import subprocess
import sys

PROMPTS = [
    "Once upon a time",
    "The little dog",
    "Lily and Tom went to the park",
    "The weather today is",
    "从前有一个小女孩",
    "今天天气很好",
    "中国的人工智能",
    "我喜欢在公园里散步",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--flywheel", default="./flywheel")
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    total = identical = 0
    for model in args.models:
        for prompt in PROMPTS:
            ref = json.loads(subprocess.run([args.reference, model, str(args.n), prompt], check=True,
                                            capture_output=True, text=True).stdout)
            out = subprocess.run(args.flywheel.split() + ["run", "--model", model, "--raw", "--temperature", "0",
                                 "--max-tokens", str(args.n), "--ids", "--prompt", prompt],
                                 check=True, capture_output=True, text=True).stdout
            ours = json.loads(out.strip().splitlines()[-1])
            total += 1
            name = model.rsplit("/", 1)[-1]
            if ours == ref["ids"]:
                identical += 1
                print(f"{name}\t{prompt}\tidentical ({len(ours)} tokens)")
                continue
            step = next((i for i, (a, b) in enumerate(zip(ours, ref["ids"])) if a != b), min(len(ours), len(ref["ids"])))
            gap = ref["gaps"][step] if step < len(ref["gaps"]) else float("nan")
            print(f"{name}\t{prompt}\tdiffer at step {step} of {len(ref['ids'])} (llama.cpp top-2 gap there {gap:.5f}; "
                  f"ours {ours[step] if step < len(ours) else 'end'}, llama.cpp {ref['ids'][step] if step < len(ref['ids']) else 'end'})")
    print(f"{identical}/{total} identical")
    return 0 if identical == total else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks `flywheel synth` against llama.cpp's own quantizer: synthesizes an F16 file and each quantized type of a
shape, runs llama-quantize on the F16 file, and compares every tensor's type and bytes. Synth rounds matrix values to
F16 before quantizing, so the two files must agree byte for byte when synth's mixture and quantizers are right.

usage: check-synth.py --llama-quantize PATH --gguf-py DIR (run it with a Python that has numpy, which gguf-py needs)
       [--shape qwen2.5-0.5b] [--types q8_0,q4_0,q4_k_m] [--dir DIR]
llama-quantize and gguf-py (llama.cpp/gguf-py) are not built or downloaded here: pass ones you have.
"""
import argparse, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-quantize", required=True)
    ap.add_argument("--gguf-py", required=True)
    ap.add_argument("--shape", default="qwen2.5-0.5b")
    ap.add_argument("--types", default="q8_0,q4_0,q4_k_m")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--dir", default=None, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    sys.path.insert(0, args.gguf_py)
    import gguf  # noqa: E402
    import numpy as np  # noqa: E402

    work = args.dir or tempfile.mkdtemp(prefix="flywheel-check-synth-")
    flywheel = os.path.join(ROOT, "flywheel")

    def synth(t):
        path = os.path.join(work, f"{args.shape}-{t}.gguf")
        subprocess.run([flywheel, "synth", "--shape", args.shape, "--type", t, "--seed", args.seed, "--output", path], check=True)
        return path

    f16 = synth("f16")
    failures = 0
    for t in args.types.split(","):
        ours = synth(t)
        theirs = os.path.join(work, f"{args.shape}-{t}.llama-quantize.gguf")
        subprocess.run([args.llama_quantize, f16, theirs, t.upper()], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a = {x.name: x for x in gguf.GGUFReader(theirs).tensors}
        b = {x.name: x for x in gguf.GGUFReader(ours).tensors}
        types = bytes_ = 0
        for name in sorted(set(a) | set(b)):
            if name not in a or name not in b:
                print(f"  {t}: {name} only in {'llama-quantize' if name in a else 'synth'}")
                types += 1
                continue
            if a[name].tensor_type != b[name].tensor_type:
                print(f"  {t}: {name} is {a[name].tensor_type.name} from llama-quantize, {b[name].tensor_type.name} from synth")
                types += 1
            elif not np.array_equal(np.asarray(a[name].data).view(np.uint8), np.asarray(b[name].data).view(np.uint8)):
                bytes_ += 1
        layout = ", ".join(f"{k} {v}" for k, v in sorted(count_types(b).items()))
        print(f"{t}: {len(b)} tensors ({layout}); type mismatches {types}, byte mismatches {bytes_}")
        failures += types + bytes_
    sys.exit(1 if failures else 0)


def count_types(tensors):
    counts = {}
    for x in tensors.values():
        counts[x.tensor_type.name] = counts.get(x.tensor_type.name, 0) + 1
    return counts


if __name__ == "__main__":
    main()

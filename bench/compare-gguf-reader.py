#!/usr/bin/env python3
"""Compares `flywheel inspect --json` with llama.cpp's own GGUF reader (gguf-py) on every .gguf under a folder.

Usage: bench/compare-gguf-reader.py --gguf-py DIR [--root ../shared]
DIR is the gguf-py folder of llama.cpp's source (the source ships inside the npm package node-llama-cpp as a
git bundle; clone it outside this repository). Needs numpy (Debian: python3-numpy).
Checks per file: tensor count, each tensor's name, type and shape (GGUF order), and every metadata key and
value (float32 compared as float32; arrays longer than 16 compared by type and length, as inspect summarises).
"""
import argparse, json, os, struct, subprocess, sys

def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]

def reader_view(path):
    from gguf import GGUFReader, GGUFValueType
    r = GGUFReader(path)
    tensors = [{"name": t.name, "type": t.tensor_type.name, "shape": [int(d) for d in t.shape]} for t in r.tensors]
    meta = {}
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        if vtype == GGUFValueType.ARRAY:
            etype = field.types[1] if len(field.types) > 1 else None
            n = len(field.data)
            if n > 16:
                meta[name] = {"type": etype.name.lower() if etype else "array", "length": n}
            else:
                meta[name] = [decode(field, i, etype) for i in field.data]
        else:
            meta[name] = decode(field, field.data[0], vtype)
    return {"tensor_count": len(tensors), "tensors": tensors, "metadata": meta}

def decode(field, idx, vtype):
    from gguf import GGUFValueType
    part = field.parts[idx]
    if vtype == GGUFValueType.STRING:
        return bytes(part).decode("utf-8", errors="replace")
    v = part.tolist()[0]
    if vtype == GGUFValueType.FLOAT32:
        return ("f32", f32(v))
    if vtype == GGUFValueType.BOOL:
        return bool(v)
    return v

def same(a, b):
    if isinstance(a, tuple) and a[0] == "f32":
        return isinstance(b, (int, float)) and f32(b) == a[1]
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return isinstance(b, (int, float)) and a == b
    return a == b

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf-py", required=True)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    args = ap.parse_args()
    sys.path.insert(0, args.gguf_py)
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.root) for f in fs if f.endswith(".gguf"))
    failures = 0
    for path in files:
        ours = json.loads(subprocess.run([os.path.join(repo, "flywheel"), "inspect", "--json", path],
                                         check=True, capture_output=True, text=True).stdout)
        ref = reader_view(path)
        problems = []
        if ours["tensor_count"] != ref["tensor_count"]:
            problems.append(f"tensor_count {ours['tensor_count']} vs {ref['tensor_count']}")
        for a, b in zip(ours["tensors"], ref["tensors"]):
            if a != b:
                problems.append(f"tensor {a} vs {b}")
        if set(ours["metadata"]) != set(ref["metadata"]):
            problems.append(f"metadata keys differ: {set(ours['metadata']) ^ set(ref['metadata'])}")
        for k, v in ref["metadata"].items():
            if k in ours["metadata"] and not same(v, ours["metadata"][k]):
                problems.append(f"metadata {k}: {ours['metadata'][k]!r} vs {v!r}")
        status = "ok" if not problems else "MISMATCH"
        failures += bool(problems)
        print(f"{status:8} {os.path.relpath(path, args.root)}: {ref['tensor_count']} tensors, {len(ref['metadata'])} metadata keys")
        for p in problems[:10]:
            print("         " + p)
    print(f"{len(files) - failures} of {len(files)} files agree with llama.cpp's reader")
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Random expression corpus for Flywheel's ChatTemplates tests.

Generates {{ expression }} templates from a fixed seed over a fixed set of variables (literals,
arithmetic, comparisons, filters, tests, str/dict methods, slices, inline if) and records what
jinja2's ImmutableSandboxedEnvironment renders for each, or the exception it raises, in
expression_corpus.json. The C# test renders the same templates and compares.

    /usr/bin/python3 tests/Flywheel.Tokenizers.Tests/ChatTemplates/Fixtures/make_expression_corpus.py
Not part of CI.
"""
import copy
import pathlib
import json
import random
import sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
import jinja2, jinja2.ext
SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 1
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
random.seed(SEED)
HERE = pathlib.Path(__file__).resolve().parent
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
VARS = {"s": "Hello World", "t": "  a,b ,c  ", "c": "中文Ab", "n": 7, "m": -3, "f": 2.5, "g": 1e20, "xs": [3, 1, 2], "ys": ["b", "A", "c"],
        "d": {"k": 1, "b": [1, 2], "a": None}, "e": [], "z": 0, "nested": [{"name": "x", "v": 1}, {"name": "Y", "v": 2.5}], "b": True}
ATOMS = ["s", "t", "c", "n", "m", "f", "g", "xs", "ys", "d", "e", "z", "nested", "b", "u", "0", "1", "-2", "3", "0.5", "2.0", "-1.25", "1e3",
         "''", "'a'", "'Ab c'", "'中文'", "\"x'y\"", "none", "true", "false", "[1, 'a', none]", "{'k': 'v', 'n': 2}", "(1, 2)", "[]"]
FILTERS = ["length", "string", "upper", "lower", "trim", "first", "last", "list", "join", "join(', ')", "reverse", "tojson", "tojson(indent=2)",
           "int", "float", "abs", "round", "round(1)", "default('D')", "default('D', true)", "sort", "unique", "capitalize", "title",
           "replace('a', 'b')", "map('string')", "select", "reject", "items", "count", "sum", "min", "max", "wordcount", "center(9)",
           "indent(2)", "e", "dictsort", "batch(2)", "slice(2)", "select('odd')", "map(attribute='name')", "selectattr('v')", "list | length",
           "sort(reverse=true)", "format", "safe", "string | length", "trim('a')", "attr('k')"]
TESTS = ["defined", "undefined", "none", "string", "number", "iterable", "sequence", "mapping", "odd", "even", "integer", "float",
         "boolean", "true", "false", "callable", "lower", "upper", "divisibleby 2", "in [1, 'a']", "eq 1", "lt 3", "sameas none"]
METHODS = [".upper()", ".lower()", ".split()", ".split(',')", ".strip()", ".strip('a')", ".startswith('H')", ".endswith('d')",
           ".replace('l', 'L')", ".get('k')", ".get('q', 5)", ".keys()", ".values()", ".items()", ".count('l')", ".title()", ".find('o')",
           ".capitalize()", ".lstrip()", ".rstrip()", ".index(1)", ".join(['p', 'q'])", ".format(1)", ".isdigit()", ".zfill(5)"]
POSTFIX = ["[0]", "[-1]", "[1:]", "[::-1]", "[:2]", "['k']", "[1:3:2]", ".k", ".name", "[5]"]
RECV = ["s", "t", "c", "d", "xs", "'x,y'", "ys"]
BIN = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "and", "or", "in", "not in"]
def expr(depth):
    r = random.random()
    if depth <= 0 or r < 0.25:
        return random.choice(ATOMS)
    if r < 0.45:
        a, b = expr(depth - 1), expr(depth - 1)
        op = random.choice(BIN)
        if op == "**":
            b = random.choice(["2", "0", "3", "-1", "0.5"])
        return f"({a} {op} {b})"
    if r < 0.6:
        return f"({expr(depth - 1)} | {random.choice(FILTERS)})"
    if r < 0.7:
        neg = random.choice(["", "not "])
        return f"({expr(depth - 1)} is {neg}{random.choice(TESTS)})"
    if r < 0.8:
        return random.choice(RECV) + random.choice(METHODS)
    if r < 0.9:
        return f"{expr(depth - 1)}{random.choice(POSTFIX)}"
    if r < 0.95:
        return f"({expr(depth - 1)} if {expr(depth - 1)} else {expr(depth - 1)})"
    return f"(not {expr(depth - 1)})"
cases = []
for i in range(COUNT):
    t = "{{ " + expr(3) + " }}"
    case = {"template": t}
    try:
        out = env.from_string(t).render(**copy.deepcopy(VARS))
        case["output"] = out
    except Exception as e:
        case["error"] = type(e).__name__ + ": " + str(e)
    cases.append(case)
with open(HERE / "expression_corpus.json", "w", encoding="utf-8") as f:
    json.dump({"generator": f"make_expression_corpus.py seed {SEED}, jinja2 {jinja2.__version__}",
               "vars": VARS, "cases": cases}, f, ensure_ascii=False, indent=0)
    f.write("\n")
print(len(cases), sum("error" in c for c in cases))

#!/usr/bin/python3
"""Random template corpus for Flywheel's ChatTemplates tests: whitespace control and statements.

Builds templates from random text (spaces, tabs, newlines, words) and tags with random
whitespace-control signs ({%- -%} {%+ {{- -}} {#- -#}): if/elif/else, for (with loop variables,
else, break/continue), set, block set, namespace updates, macros, filter blocks, raw blocks and
comments. Records what transformers' jinja2 environment (trim_blocks, lstrip_blocks) renders in
template_corpus.json; the C# test renders the same templates and compares byte for byte.

    /usr/bin/python3 tests/Flywheel.Tokenizers.Tests/ChatTemplates/Fixtures/make_template_corpus.py
Not part of CI.
"""
import json
import pathlib
import random
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 1
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 800
HERE = pathlib.Path(__file__).resolve().parent
random.seed(SEED)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
VARS = {"items": ["a", "b", "c"], "flag": True, "off": False, "name": "Ann", "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}

TEXT = ["", " ", "  ", "\t", "\n", "\n\n", "  \n", "\n  ", "x", "word ", " end", "\t\n", "a b", "\n    ", "    "]
OPEN = ["{%", "{%-", "{%+"]
CLOSE = ["%}", "-%}", "+%}"]
VOPEN = ["{{", "{{-"]
VCLOSE = ["}}", "-}}"]
EXPRS = ["name", "loop.index if loop is defined else 0", "x", "flag", "'q'", "items | length", "ns.n", "m.role if m is defined",
         "1 + 2", "name ~ '!'", "items[0]"]


def text():
    return "".join(random.choice(TEXT) for _ in range(random.randint(0, 3)))


def tag(body):
    return random.choice(OPEN) + " " + body + " " + random.choice(CLOSE)


def var():
    return random.choice(VOPEN) + " " + random.choice(EXPRS) + " " + random.choice(VCLOSE)


def comment():
    return random.choice(["{#", "{#-"]) + " c " + random.choice(["#}", "-#}"])


def block(depth):
    parts = []
    for _ in range(random.randint(1, 3)):
        r = random.random()
        parts.append(text())
        if depth <= 0 or r < 0.3:
            parts.append(random.choice([var(), var(), comment(), text()]))
        elif r < 0.45:
            parts.append(tag("if " + random.choice(["flag", "off", "name", "items", "x"])) + block(depth - 1))
            if random.random() < 0.4:
                parts.append(tag("elif " + random.choice(["flag", "off"])) + block(depth - 1))
            if random.random() < 0.5:
                parts.append(tag("else") + block(depth - 1))
            parts.append(tag("endif"))
        elif r < 0.6:
            target = random.choice(["x in items", "m in msgs", "x in []", "x in items if x != 'b'"])
            parts.append(tag("for " + target) + block(depth - 1))
            if random.random() < 0.3:
                parts.append(tag("if loop.index == 2") + tag(random.choice(["break", "continue"])) + tag("endif"))
            if random.random() < 0.3:
                parts.append(tag("else") + block(depth - 1))
            parts.append(tag("endfor"))
        elif r < 0.7:
            parts.append(tag("set x = " + random.choice(["'v'", "name", "items | join(',')", "loop.index if loop is defined else 0"])))
        elif r < 0.75:
            parts.append(tag("set ns.n = ns.n + 1"))
        elif r < 0.82:
            parts.append(tag("set x") + block(depth - 1) + tag("endset"))
        elif r < 0.88:
            parts.append(tag("filter upper") + block(depth - 1) + tag("endfilter"))
        elif r < 0.94:
            parts.append(random.choice(OPEN) + " raw " + random.choice(["%}", "-%}"]) + text() + "{{ x }}" + text()
                         + random.choice(OPEN) + " endraw " + random.choice(CLOSE))
        else:
            parts.append(var())
    parts.append(text())
    return "".join(parts)


cases = []
for _ in range(COUNT):
    body = block(3)
    if random.random() < 0.3:
        body = tag("macro m(a, b='d')") + block(1) + "{{ a }}{{ b }}" + tag("endmacro") + body + "{{ m('A') }}" + text()
    template = "{% set ns = namespace(n=0) %}" + body + random.choice(["", "\n", "\n\n"])
    case = {"template": template}
    try:
        case["output"] = env.from_string(template).render(**VARS)
    except Exception as e:  # noqa: BLE001
        case["error"] = type(e).__name__ + ": " + str(e)
    cases.append(case)

with open(HERE / "template_corpus.json", "w", encoding="utf-8") as f:
    json.dump({"generator": f"make_template_corpus.py seed {SEED}, jinja2 {jinja2.__version__}", "vars": VARS, "cases": cases},
              f, ensure_ascii=False, indent=0)
    f.write("\n")
print(len(cases), sum("error" in c for c in cases))

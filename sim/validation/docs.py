"""Parameter documentation generated from sim/parameters.py, so it never drifts from the code.

`clustersim docs` writes docs/parameters.md (every parameter: key, default, unit, range,
meaning, source) and refreshes the per-mechanism parameter tables inside docs/ODD.md, which sit
between `<!-- BEGIN PARAMETERS section -->` and `<!-- END PARAMETERS section -->` markers;
`clustersim docs --check` exits 1 when either file is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim import atomic
from sim.parameters import PARAMETERS, SECTIONS

BLOCK = re.compile(r"(<!-- BEGIN PARAMETERS (?P<sections>[\w ,]+) -->\n)(?P<body>.*?)"
                   r"(<!-- END PARAMETERS -->)", re.S)
KEY_RE = re.compile(r"`((?:%s)\.[a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)?)`" % "|".join(SECTIONS))

SECTION_TITLES = {
    "run": "Run", "target": "Target", "data": "Input data", "macro": "Macro closure",
    "calibration": "Initial state (calibration to 2020)", "production": "Production",
    "agglomeration": "Agglomeration", "spillover": "Knowledge spillover",
    "innovation": "R&D, innovation, imitation and selection", "entry_exit": "Entry, location and exit",
    "export_controls": "Export controls", "policy": "Policy levers",
    "measurement": "Measurement (simulated values onto published series)",
}


def fmt_value(p) -> str:
    v = p.default
    if p.kind == "sector_map":
        return ", ".join(f"{k}: {x:g}" for k, x in v.items())
    if p.kind == "events":
        return "none" if not v else f"{len(v)} event(s)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def fmt_range(p) -> str:
    if p.choices:
        return " / ".join(p.choices)
    if p.min is None and p.max is None:
        return {"bool": "true / false", "month": "YYYY-MM"}.get(p.kind, "-")
    def num(x):
        if x is None:
            return ""
        return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1e4 else f"{x:g}"
    return f"{num(p.min)} .. {num(p.max)}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(sections) -> str:
    rows = ["| parameter | default | unit | range | meaning | source |", "|---|---|---|---|---|---|"]
    for p in PARAMETERS:
        if p.key.split(".")[0] in sections:
            rows.append(f"| `{p.key}` | {_cell(fmt_value(p))} | {_cell(p.unit)} | "
                        f"{_cell(fmt_range(p))} | {_cell(p.meaning)} | {_cell(p.source)} |")
    return "\n".join(rows) + "\n"


def parameters_md() -> str:
    out = ["# Parameters", "",
           "Generated from `sim/parameters.py` by `clustersim docs`; do not edit by hand. Every "
           "scenario parameter with its default, unit, allowed range, meaning and source. A "
           "scenario file sets any of them by dotted key (`section:` then `name:`), `--set "
           "key=value` overrides one on the command line, and `clustersim params SCENARIO` lists "
           "the values a scenario ends up with. Grades and full references of the data behind "
           "the defaults: `sim/data/SOURCES.md`; the model they belong to: `docs/ODD.md`.", ""]
    for s in SECTIONS:
        out += [f"## {SECTION_TITLES.get(s, s)} (`{s}`)", "", table([s])]
    return "\n".join(out)


def refresh_odd(text: str) -> str:
    """Regenerate every parameter block in the ODD text."""
    def repl(m):
        sections = [s.strip() for s in re.split(r"[ ,]+", m.group("sections")) if s.strip()]
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ValueError(f"docs/ODD.md: unknown parameter section(s) {unknown}")
        return m.group(1) + table(sections) + m.group(4)
    return BLOCK.sub(repl, text)


def documented_keys(text: str) -> set[str]:
    """Dotted parameter keys written in backticks, e.g. `agglomeration.elasticity`."""
    return {k for k in KEY_RE.findall(text)
            if not k.endswith((".csv", ".py", ".md", ".yaml", ".png"))}  # file names


def cmd_docs(args) -> int:
    docs = Path(args.docs)
    params_path, odd_path = docs / "parameters.md", docs / "ODD.md"
    wanted = {params_path: parameters_md()}
    if odd_path.exists():
        wanted[odd_path] = refresh_odd(odd_path.read_text(encoding="utf-8"))
    stale = [p for p, text in wanted.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"stale: {p} (run `clustersim docs`)")
        return 1 if stale else 0
    for p in stale:
        atomic.write_text(p, wanted[p])
        print(f"wrote {p}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("docs", help="regenerate docs/parameters.md and the parameter "
                              "tables in docs/ODD.md from sim/parameters.py")
    p.add_argument("--docs", default="docs", help="documentation folder (default: docs)")
    p.add_argument("--check", action="store_true", help="exit 1 if a file is stale; write nothing")
    p.set_defaults(func=cmd_docs)

"""Command line: python -m allocation.solver ROUND.json [-o OUT.json] [--time-limit S] [--canonical]

Reads a gacp.scenario/1 document (`-` for stdin) and writes its gacp.allocation/1 decision (stdout by
default). Bad input exits with status 2 and one line per problem on stderr, naming the field and the id.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import ScenarioError, canonical_json, solve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m allocation.solver",
        description="Solve one allocation round (gacp.scenario/1 -> gacp.allocation/1).",
    )
    parser.add_argument("round", help="the round as gacp.scenario/1 JSON, or - for stdin")
    parser.add_argument("-o", "--output", help="write the decision here instead of stdout")
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        help="stop raising levels after S seconds (status 'feasible')",
    )
    parser.add_argument(
        "--canonical",
        action="store_true",
        help="write the canonical form (sorted keys, no solve_seconds) for byte comparison",
    )
    return parser


def _read(path: str) -> Any:
    """The decoded document; problems become SystemExit(2) after one line on stderr."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        _fail([f"{path}: cannot read: {exc.strerror or exc}"])
    except UnicodeDecodeError as exc:
        _fail([f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}"])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        _fail([f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"])


def _fail(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.time_limit is not None and not args.time_limit > 0:
        _fail([f"--time-limit: must be > 0, got {args.time_limit}"])
    doc = _read(args.round)
    try:
        decision = solve(doc, time_limit=args.time_limit)
    except ScenarioError as exc:
        _fail(exc.problems)
    text = canonical_json(decision) if args.canonical else json.dumps(decision, indent=1) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            _fail([f"{args.output}: cannot write: {exc.strerror or exc}"])
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

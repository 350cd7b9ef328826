"""``ecommerce adr ...`` and ``ecommerce diagrams``: the developer commands (they work on the
repository checkout, not on a database)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ecommerce.kernel.settings import Settings


def cmd_adr(args: argparse.Namespace, settings: Settings) -> int:
    from ecommerce.devtools import adr

    adr_dir = Path(args.dir)
    if args.action == "new":
        if not args.title:
            print("ecommerce adr new: give the decision's title, e.g. ecommerce adr new \"Use X for Y\"",
                  file=sys.stderr)
            return 2
        try:
            path = adr.new(" ".join(args.title), number=args.number, adr_dir=adr_dir)
        except ValueError as exc:
            print(f"ecommerce adr new: {exc}", file=sys.stderr)
            return 2
        print(path)
        return 0
    if args.action == "list":
        for line in adr.log_lines(adr.records(adr_dir)):
            print(line)
    else:
        problems = adr.check_all(adr_dir, Path.cwd())  # evidence paths are relative to the checkout
        for name, found in problems.items():
            for problem in found:
                print(f"{name}: {problem}", file=sys.stderr)
        if problems:
            return 1
        print(f"{len(adr.records(adr_dir))} records, all sound")
    return 0


def cmd_diagrams(args: argparse.Namespace, settings: Settings) -> int:
    from ecommerce.devtools.drawings import generate

    try:
        changed = generate.write_all(Path(args.out), render_images=not args.sources_only)
    except ModuleNotFoundError as exc:  # the drawing libraries come with the dev extra
        print(f"ecommerce diagrams: {exc.name} is not installed: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"ecommerce diagrams: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path}")
    drawn = len(generate.sources())
    what = "sources" if args.sources_only else "sources and images"
    if changed:
        print(f"redrew {drawn} drawings ({what}) from the code; {len(changed)} file(s) changed in {args.out}/")
    else:  # every file was written again in memory and compared: nothing on disk differed
        print(f"redrew {drawn} drawings ({what}) from the code; every file in {args.out}/ already matched them")
    return 0


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    adr = sub.add_parser("adr", help="architecture decision records: list, check, or write a new one")
    adr.add_argument("action", choices=["list", "new", "check"])
    adr.add_argument("title", nargs="*", help="with new: the decision's title")
    adr.add_argument("--number", type=int, help="with new: use this number (one reserved in advance)")
    adr.add_argument("--dir", default="adr", help="the ADR folder (default: ./adr)")
    adr.set_defaults(handler=cmd_adr)

    diagrams = sub.add_parser("diagrams", help="redraw every diagram from the code (sources and PNGs)")
    diagrams.add_argument("--out", default="diagrams", help="output folder (default: ./diagrams)")
    diagrams.add_argument("--sources-only", action="store_true",
                          help="write the .dot/.mmd sources only (no Graphviz needed)")
    diagrams.set_defaults(handler=cmd_diagrams)

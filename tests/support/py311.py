"""Keep CPython 3.11's ``ast`` re-entrancy bug out of the test processes.

Why: on 3.11 (seen on 3.11.7, not on 3.12 or 3.13) ``ast.parse`` keeps its recursion depth in one
global; a garbage collection in the middle of a parse can run a finalizer that parses too (asyncio's
"Task exception was never retrieved" logs a traceback, and 3.11's traceback formatting parses each
source line to draw its ``^^^`` markers), and the outer parse then fails with
``SystemError: AST constructor recursion depth mismatch``. Sanic parses while it registers routes and
finalises its router, so a live server's start-up failed now and then. Without column ranges a
traceback is formatted without parsing anything: child processes get ``PYTHONNODEBUGRANGES=1``, and
this process, started before we could set it, formats tracebacks without the markers.
"""

from __future__ import annotations

import os
import sys
import traceback


def guard_ast_reentrancy() -> None:
    """Children start without column ranges; this process draws no carets. Crashes print their stack."""
    os.environ.setdefault("PYTHONFAULTHANDLER", "1")  # a SIGSEGV in a child server prints where it was
    if sys.version_info >= (3, 12):
        return
    os.environ.setdefault("PYTHONNODEBUGRANGES", "1")
    if hasattr(traceback, "_extract_caret_anchors_from_line_segment"):
        traceback._extract_caret_anchors_from_line_segment = lambda segment: None  # type: ignore[attr-defined]

"""Let the suite's Python processes keep compiled bytecode, even where the environment says not to.

Why: a run starts some three hundred Python processes (``ecommerce`` commands and servers, benchmarks, the
test workers themselves), and each imports the package. With ``PYTHONDONTWRITEBYTECODE`` set (container
images often set it) nothing is cached, so every one of them compiles the package's sources again and
pytest rewrites every test module's assertions again in each worker: about 0.1 s of CPU per process, a
visible share of a CPU-bound run on two cores.

The bytecode goes where Python puts it by default, ``__pycache__`` beside each source (ignored by git).
Not into a prefix folder (``PYTHONPYCACHEPREFIX``, as this did before): Python then reads bytecode only
from there, so in a fresh clone the standard library and every installed package, which pip and the
interpreter's installer had compiled already, were compiled again by the first processes of the run,
each on its own (2.7 s of CPU each for what a test worker imports).
"""

from __future__ import annotations

import os
import sys


def cache_bytecode() -> None:
    """This process and the processes it starts write and read bytecode beside the sources."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False

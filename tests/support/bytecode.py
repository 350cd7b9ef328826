"""Let the suite's Python processes keep compiled bytecode, even where the environment says not to.

Why: a run starts some three hundred Python processes (``ecommerce`` commands and servers, benchmarks, the
test workers themselves), and each imports the package. With ``PYTHONDONTWRITEBYTECODE`` set (container
images often set it) nothing is cached, so every one of them compiles the package's sources again and
pytest rewrites every test module's assertions again in each worker: about 0.1 s of CPU per process, a
visible share of a CPU-bound run on two cores. The caches go to ``.pytest_cache/pycache`` (Python's
``PYTHONPYCACHEPREFIX``), never beside the sources, so the environment's wish for a clean tree still holds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_bytecode(root: Path) -> None:
    """This process and the processes it starts write and read bytecode under ``root/.pytest_cache``."""
    if not (sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")):
        return  # caching already (beside the sources, or wherever PYTHONPYCACHEPREFIX says)
    prefix = root / ".pytest_cache" / "pycache"
    prefix.mkdir(parents=True, exist_ok=True)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(prefix))
    sys.dont_write_bytecode = False
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]

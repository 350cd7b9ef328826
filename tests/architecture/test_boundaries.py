"""Module boundaries are enforced by import-linter; these tests prove the contracts hold *and* bite.

Each violation is planted in a throw-away copy of the package, so the real tree is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [
            sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
            "--config", str(ROOT / "setup.cfg"), "--no-cache",
        ],
        cwd=package_parent, env=env, capture_output=True, text=True, timeout=300,
    )


def planted(tmp_path: Path, files: dict[str, str]) -> Path:
    shutil.copytree(ROOT / "ecommerce", tmp_path / "ecommerce", ignore=shutil.ignore_patterns("__pycache__"))
    for relative, text in files.items():
        path = tmp_path / "ecommerce" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(path.read_text() + "\n" + text if path.exists() else text)
    return tmp_path


def test_contracts_hold_on_the_real_tree() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("files", "contract"),
    [
        (
            {"kernel/oops.py": "from ecommerce.modules.users import models\n"},
            "The kernel imports no domain module",
        ),
        (
            {"modules/users/accounts.py": "import sanic  # noqa\n"},
            "Domain code (everything in a module but http.py) never imports Sanic",
        ),
        (
            {"modules/users/sessions.py": "from sanic import json  # noqa\n"},
            "Domain code (everything in a module but http.py) never imports Sanic",
        ),
        (
            {"kernel/clock.py": "import sanic  # noqa\n"},
            "Only the kernel's HTTP glue (kernel.http) and the app import Sanic",
        ),
        (
            {"kernel/database.py": "import sanic  # noqa\n"},
            "Only the kernel's HTTP glue (kernel.http) and the app import Sanic",
        ),
        (
            {
                "modules/shop/__init__.py": "",
                "modules/shop/checkout.py": "from ecommerce.modules.users.models import User  # noqa\n",
            },
            "A module reaches another only through its api and events",
        ),
    ],
)
def test_a_violation_is_caught(tmp_path: Path, files: dict[str, str], contract: str) -> None:
    result = lint_imports(planted(tmp_path, files))
    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout


def test_going_through_the_facade_is_allowed(tmp_path: Path) -> None:
    files = {
        "modules/shop/__init__.py": "",
        "modules/shop/checkout.py": "from ecommerce.modules.users import api, events  # noqa\n",
    }
    result = lint_imports(planted(tmp_path, files))
    assert result.returncode == 0, result.stdout


def test_domain_facade_imports_without_sanic() -> None:
    """A developer's script can use a module's api without loading the web framework."""
    code = (
        "import sys, ecommerce.modules.users.api, ecommerce.kernel.bootstrap; "
        "assert 'sanic' not in sys.modules, 'sanic was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

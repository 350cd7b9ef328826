"""The README's commands are the ones CI runs: they must not drift apart."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_APP = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/ecommerce serve --demo"
RUN_TESTS = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    assert RUN_APP in first_block
    assert RUN_TESTS in first_block


def test_ci_runs_the_readme_test_command_with_postgres_required() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert RUN_TESTS in ci
    assert 'eval "$test_command"' in ci
    assert "ECOMMERCE_REQUIRE_POSTGRES=1" in ci

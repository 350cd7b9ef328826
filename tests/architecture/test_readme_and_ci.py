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
    # The docs browser test and the diagram renders need their system packages, installed by CI itself.
    assert "ECOMMERCE_REQUIRE_BROWSER=1" in ci and "apt_install chromium" in ci and "apt_install graphviz" in ci


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    """The "Using a module from Python" snippet works as written on a fresh data directory, and again on the
    same one (the account exists by then; the demo data is not loaded twice)."""
    import subprocess
    import sys

    from tests.support.processes import cli_env

    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("```python", 1)[1].split("```", 1)[0]
    env = cli_env(tmp_path)
    outputs = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "ProductSnapshot" in result.stdout
        outputs.append(result.stdout)
    assert "UserView" in outputs[0] and "grace@example.com" in outputs[0]
    assert "has an account already" in outputs[1]

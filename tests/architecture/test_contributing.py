"""CONTRIBUTING.md shows real code: every block introduced by a file name is still, word for word, in
that file of the example module (which tests/e2e/test_example_module.py runs end to end)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "CONTRIBUTING.md"
#: "`path/to/file.py`:" on its own line, a blank line, then a fenced block.
QUOTED = re.compile(r"^`([\w./-]+)`:\n\n```\w*\n(.*?)^```$", re.M | re.S)


def test_every_quoted_block_is_in_its_file() -> None:
    quoted = QUOTED.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(quoted) >= 9, "the guide quotes models, migration, events, service, api, reactions, http, init, toml"
    for path, block in quoted:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert block in source, f"CONTRIBUTING.md quotes {path}, which no longer contains:\n{block}"


def test_every_path_the_guide_names_exists() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for path in sorted(set(re.findall(r"`((?:examples|tests|ecommerce|docs)/[\w./-]+)`", text))):
        if "<" not in path:
            assert (ROOT / path).exists(), path

"""Message templates: plain-text files, ``Subject: ...`` on the first line, a blank line, then the body.

Why ``string.Template``: it only substitutes ``$name`` placeholders — no attribute access, no
expressions, no code — so a template (or a value substituted into it) can never run anything. A
template that names a value the event does not supply fails loudly (``KeyError``) in the tests, not
silently in a customer's inbox. Values never reach the subject with a line break (no header injection).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from string import Template

PACKAGE = "ecommerce.modules.notifications"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@functools.cache
def _load(name: str) -> tuple[Template, Template]:
    text = resources.files(PACKAGE).joinpath("templates", f"{name}.txt").read_text(encoding="utf-8")
    head, sep, body = text.partition("\n\n")
    if not sep or not head.startswith("Subject: "):
        raise ValueError(f"template {name!r} must start with 'Subject: ...' and a blank line")
    return Template(head.removeprefix("Subject: ").strip()), Template(body)


def names() -> list[str]:
    folder = resources.files(PACKAGE).joinpath("templates")
    return sorted(entry.name.removesuffix(".txt") for entry in folder.iterdir() if entry.name.endswith(".txt"))


def render(name: str, values: dict[str, object]) -> Rendered:
    subject, body = _load(name)
    text = {key: str(value) for key, value in values.items()}
    one_line = {key: " ".join(value.split()) for key, value in text.items()}
    return Rendered(subject.substitute(one_line), body.substitute(text))


def money(amount: int, currency: str) -> str:
    """Minor units as text: ``4999, "EUR"`` -> ``49.99 EUR``."""
    return f"{amount // 100}.{amount % 100:02d} {currency}"

"""What one pass of background work did: a count per outcome and the error lines, summed pass after pass.

The relay (delivered, retried, failed), the broker's consumers (acked, retried, dead) and the
notifications' delivery (sent, retried, failed) all report in this one shape, so summing two passes and
turning a report into JSON are written once. A report names its outcomes as ``int`` fields defaulting to 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Self


@dataclass
class Tally:
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Each outcome's count, in the order the report declares them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "errors"}

    def __iadd__(self, other: Self) -> Self:
        for name, count in other.counts().items():
            setattr(self, name, getattr(self, name) + count)
        self.errors.extend(other.errors)
        return self

    @property
    def total(self) -> int:
        """How many things the pass handled, whatever their outcome (0: nothing was due)."""
        return sum(self.counts().values())

    def as_dict(self) -> dict[str, object]:
        return {**self.counts(), "errors": list(self.errors)}

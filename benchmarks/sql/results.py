"""Reading pytest-benchmark JSON back: one ``Result`` per timed variant, plus each run's machine info."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    suite: str
    backend: str
    scale: int
    variant: str
    param: Any
    median: float  # seconds per round
    minimum: float
    rounds: int
    queries: int | None
    rows: int | None
    plan: str | None
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def ms(self) -> float:
        return self.median * 1000


@dataclass
class Results:
    results: list[Result]
    machines: dict[str, dict[str, Any]]  # backend -> machine_info (+ datetime)

    def of(self, suite: str, backend: str) -> list[Result]:
        return [r for r in self.results if r.suite == suite and r.backend == backend]

    def get(self, suite: str, backend: str, variant: str, param: Any) -> Result | None:
        for r in self.results:
            if (r.suite, r.backend, r.variant, r.param) == (suite, backend, variant, param):
                return r
        return None

    def backends(self, suite: str | None = None) -> list[str]:
        found = {r.backend for r in self.results if suite is None or r.suite == suite}
        return [b for b in ("postgres", "sqlite") if b in found]

    def scale(self, backend: str) -> int:
        return int(self.machines[backend].get("scale", 0))


KNOWN = ("suite", "backend", "scale", "variant", "param", "queries", "rows", "plan")


def load(paths: Iterable[Path]) -> Results:
    results: list[Result] = []
    machines: dict[str, dict[str, Any]] = {}
    for path in paths:
        data = json.loads(path.read_text())
        for bench in data.get("benchmarks", []):
            info = bench.get("extra_info", {})
            if "suite" not in info:
                continue
            stats = bench["stats"]
            results.append(Result(
                suite=info["suite"], backend=info["backend"], scale=info["scale"], variant=info["variant"],
                param=info["param"], median=stats["median"], minimum=stats["min"], rounds=stats["rounds"],
                queries=info.get("queries"), rows=info.get("rows"), plan=info.get("plan"),
                extra={k: v for k, v in info.items() if k not in KNOWN},
            ))
            machine = dict(data.get("machine_info", {}))
            machine["datetime"] = data.get("datetime")
            machine["commit"] = (data.get("commit_info") or {}).get("id")
            machines[info["backend"]] = machine
    return Results(results, machines)

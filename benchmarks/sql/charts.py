"""PNG charts for the performance page (matplotlib, no display: the Agg backend)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.sql.results import Result, Results

STYLE = {"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9}
NO_METADATA = {"Software": None}  # byte-stable PNGs: no matplotlib version stamped in


def _save(fig: Any, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata=NO_METADATA)
    plt.close(fig)
    return path.name


def lines(results: Results, suite: str, variants: Sequence[str], path: Path, *, xlabel: str,
          title: str, log: bool = False) -> str:
    """Time against size or depth: one panel per backend, one line per variant."""
    backends = results.backends(suite)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(backends), figsize=(5.2 * len(backends), 3.6), squeeze=False)
        for ax, backend in zip(axes[0], backends, strict=True):
            for variant in variants:
                points = sorted((r.param, r.ms) for r in results.of(suite, backend) if r.variant == variant)
                if points:
                    ax.plot([p for p, _ in points], [m for _, m in points], marker="o", label=variant)
            ax.set_title(f"{backend} (scale {results.scale(backend)})")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("median time per call (ms)")
            if log:
                ax.set_yscale("log")
            ax.legend()
        fig.suptitle(title)
        return _save(fig, path)


def bars(results: Results, suite: str, groups: Sequence[Any], variants: Sequence[str], path: Path, *,
         title: str, value: Callable[[Result], float] = lambda r: r.ms, ylabel: str = "median time (ms)",
         log: bool = False) -> str:
    """Grouped bars: one panel per backend, one group per param, one bar per variant."""
    backends = results.backends(suite)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(backends), figsize=(5.2 * len(backends), 3.6), squeeze=False)
        for ax, backend in zip(axes[0], backends, strict=True):
            present = [v for v in variants if any(r.variant == v for r in results.of(suite, backend))]
            width = 0.8 / max(len(present), 1)
            for i, variant in enumerate(present):
                heights = []
                for group in groups:
                    found = results.get(suite, backend, variant, group)
                    heights.append(value(found) if found else 0.0)
                positions = [g + i * width - 0.4 + width / 2 for g in range(len(groups))]
                ax.bar(positions, heights, width, label=variant)
            ax.set_xticks(range(len(groups)), [str(g) for g in groups])
            ax.set_title(f"{backend} (scale {results.scale(backend)})")
            ax.set_ylabel(ylabel)
            if log:
                ax.set_yscale("log")
            ax.legend(fontsize=7)
        fig.suptitle(title)
        return _save(fig, path)

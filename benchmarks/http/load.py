"""Drive one endpoint at a fixed number of connections: wrk (Debian's package) when installed, else a
small asyncio load generator (same measurements, more client CPU: its figures are marked as such).

Each run is a warm-up (discarded) then the measured window; the result holds req/s, p50/p90/p99
latency, non-2xx answers, socket errors and the load average around the window.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.http.client import Connection

WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,'
    .. '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
"""


@dataclass(frozen=True)
class Target:
    """One thing to load: an endpoint of the app, or a ceiling."""

    name: str
    base: str
    paths: tuple[str, ...]
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def _lua(target: Target) -> str:
    paths = ", ".join(json.dumps(p) for p in target.paths)
    lines = [f'wrk.method = "{target.method}"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in target.headers.items()]
    if target.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        lines.append(f"wrk.body = {json.dumps(json.dumps(target.body))}")
    lines += [
        f"local paths = {{{paths}}}",
        "local i = 0",
        "request = function()",
        "  i = i + 1",
        "  return wrk.format(nil, paths[(i % #paths) + 1])",
        "end",
        WRK_DONE,
    ]
    return "\n".join(lines)


def _wrk(target: Target, seconds: float, connections: int, threads: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(target))
    try:
        done = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", script.name, target.base + target.paths[0]],
            capture_output=True, text=True, check=True,
        )
    finally:
        os.unlink(script.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    found: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    found["rps"] = round(found["requests"] / (found.pop("duration_us") / 1e6), 1)
    return found


async def _python_load(target: Target, seconds: float, connections: int) -> dict[str, Any]:
    latencies: list[float] = []
    counts = {"non_2xx": 0, "socket_errors": 0}
    stop_at = time.perf_counter() + seconds

    async def user(index: int) -> None:
        conn = Connection(target.base)
        i = index
        try:
            while time.perf_counter() < stop_at:
                i += 1
                try:
                    answer = await conn.request(target.method, target.paths[i % len(target.paths)], target.body,
                                                target.headers)
                except (OSError, asyncio.IncompleteReadError):
                    counts["socket_errors"] += 1
                    await conn.close()
                    continue
                latencies.append(answer.seconds)
                if not 200 <= answer.status < 300:
                    counts["non_2xx"] += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 3) if latencies else 0.0

    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1), **counts,
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1.0)}


def generator() -> str:
    """wrk when installed; ``ECOMMERCE_BENCH_GENERATOR=python`` forces the asyncio one (its own test)."""
    if os.environ.get("ECOMMERCE_BENCH_GENERATOR") == "python":
        return "python"
    return "wrk" if shutil.which("wrk") else "python"


def measure(target: Target, *, seconds: float, warmup: float, connections: int, threads: int = 1) -> dict[str, Any]:
    """Warm up, then measure; the load average is read right before and after the window."""

    def once(duration: float) -> dict[str, Any]:
        if generator() == "wrk":
            return _wrk(target, duration, connections, threads)
        return asyncio.run(_python_load(target, duration, connections))

    if warmup > 0:
        once(warmup)
    before = os.getloadavg()[0]
    result = once(seconds)
    result["loadavg_before"] = round(before, 2)
    result["loadavg_after"] = round(os.getloadavg()[0], 2)
    result["connections"] = connections
    result["generator"] = generator()
    return result

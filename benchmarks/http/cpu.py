"""Where the machine's CPU went during a measurement: the app's processes, PostgreSQL's, the load
generator (this process) and everything else, read from ``/proc`` (Linux) before and after.

Why: on a 2-core machine that also runs the database and the load generator, a throughput figure alone
cannot say whether the app is slow or the machine is full. CPU seconds per checkout, split by owner, can:
if the cores are busy and PostgreSQL alone takes half of them, the app cannot go faster by much.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds used) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _processes() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found[int(entry.name)] = stat
    return found


def _busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


def _tree(procs: dict[int, tuple[str, int, float]], root: int) -> set[int]:
    members = {root}
    grew = True
    while grew:
        grew = False
        for pid, (_name, parent, _cpu) in procs.items():
            if parent in members and pid not in members:
                members.add(pid)
                grew = True
    return members


@dataclass
class Snapshot:
    at: float
    busy: float
    total: float
    app: float
    postgres: float
    generator: float
    app_pids: set[int]


def _ours(pid: int, name: str, database: str) -> bool:
    """A PostgreSQL process working for ``database``: its backends, and the server's own processes (WAL
    writer, checkpointer...: they write our commits too). Other databases' backends are someone else's."""
    if not name.startswith("postgres"):
        return False
    line = _cmdline(pid)
    if not line.startswith("postgres: "):
        return True  # the postmaster
    parts = line.split()
    backend = len(parts) > 4 and ("(" in line or "idle" in line or "[local]" in line)
    return not backend or database in parts


def snapshot(app_root: int | None, database: str) -> Snapshot:
    procs = _processes()
    app_pids = _tree(procs, app_root) if app_root is not None else set()
    busy, total = _busy_seconds()
    return Snapshot(
        at=time.monotonic(), busy=busy, total=total,
        app=sum(procs[p][2] for p in app_pids if p in procs),
        postgres=sum(cpu for pid, (name, _parent, cpu) in procs.items() if _ours(pid, name, database)),
        generator=sum(os.times()[:4]),  # this process and its finished children
        app_pids=app_pids,
    )


def commits(database_url: str) -> int | None:
    """``xact_commit`` of a PostgreSQL database so far (read from another connection; the statistics lag
    by up to a second, which a window of many seconds absorbs); None on SQLite."""
    if not database_url.startswith("postgres"):
        return None
    from benchmarks.http.servers import autocommit_cursor

    with autocommit_cursor(database_url) as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        return int(cur.fetchone()[0])


def split(before: Snapshot, after: Snapshot, units: int) -> dict[str, Any]:
    """CPU used between two snapshots: cores busy on average, and milliseconds per unit (a checkout) for
    the app, PostgreSQL, the load generator and the rest of the machine (other users included)."""
    wall = after.at - before.at
    busy = after.busy - before.busy
    app = after.app - before.app  # processes that ended in between are missed: none should
    postgres = after.postgres - before.postgres
    generator = after.generator - before.generator
    other = max(0.0, busy - app - postgres - generator)
    per = 1000.0 / max(units, 1)
    return {
        "seconds": round(wall, 2),
        "cores": os.cpu_count(),
        "cores_busy": round(busy / wall, 2),
        "ms_per_unit": {"app": round(app * per, 2), "postgres": round(postgres * per, 2),
                        "generator": round(generator * per, 2), "other": round(other * per, 2),
                        "all": round(busy * per, 2)},
    }

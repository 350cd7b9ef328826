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

#: The relay process's name (``ecommerce.kernel.events.background.PROCESS_NAME``; not imported: the
#: benchmark's client side does not load the app).
RELAY = "ecommerce-relay"
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
    #: CPU seconds so far of each process counted, by pid: the app's tree, PostgreSQL's processes for the
    #: database. Per process, so that one that ends between two snapshots cannot make a difference
    #: negative (a sum over whatever processes exist at each instant would lose its whole history).
    app: dict[int, float]
    postgres: dict[int, float]
    relay: dict[int, float]  # the app's processes named ``ecommerce-relay`` (relay, consumers, jobs)
    generator: float
    app_pids: set[int]


def _backend_of(line: str, database: str) -> bool | None:
    """Whether a PostgreSQL process's command line is a backend of ``database`` (None: not a backend)."""
    parts = line.split()
    if not (len(parts) > 4 and ("(" in line or "idle" in line or "[local]" in line)):
        return None
    return database in parts


def _postgres_ours(procs: dict[int, tuple[str, int, float]], database: str) -> dict[int, float]:
    """The PostgreSQL processes working for ``database``: its backends, and the server's own processes
    (postmaster, WAL writer, checkpointer...: they write our commits too) - of the server that serves it
    only. Other databases' backends, and other servers on the machine (a test suite's private primary and
    replica), are someone else's."""
    lines = {pid: _cmdline(pid) for pid, (name, _parent, _cpu) in procs.items() if name.startswith("postgres")}
    servers = {procs[pid][1] for pid, line in lines.items() if _backend_of(line, database)}
    ours: dict[int, float] = {}
    for pid, line in lines.items():
        _name, parent, used = procs[pid]
        if pid in servers or (parent in servers and _backend_of(line, database) is not False):
            ours[pid] = used
    return ours


def snapshot(app_root: int | None, database: str) -> Snapshot:
    procs = _processes()
    app_pids = _tree(procs, app_root) if app_root is not None else set()
    busy, total = _busy_seconds()
    return Snapshot(
        at=time.monotonic(), busy=busy, total=total,
        app={p: procs[p][2] for p in app_pids if p in procs},
        relay={p: procs[p][2] for p in app_pids if p in procs and procs[p][0] == RELAY},
        postgres=_postgres_ours(procs, database),
        generator=sum(os.times()[:4]),  # this process and its finished children
        app_pids=app_pids,
    )


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used in between by the processes alive at the end (one started in between: all of it). A
    process that ended in between is missed, an underestimate: none of the measured ones should."""
    return sum(max(0.0, used - before.get(pid, 0.0)) for pid, used in after.items())


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
    app = _used(before.app, after.app)
    relay = _used(before.relay, after.relay)
    postgres = _used(before.postgres, after.postgres)
    generator = after.generator - before.generator
    other = max(0.0, busy - app - postgres - generator)
    per = 1000.0 / max(units, 1)
    return {
        "seconds": round(wall, 2),
        "cores": os.cpu_count(),
        "cores_busy": round(busy / wall, 2),
        # "relay": the share of "app" that the relay process used (0 with one worker: it runs inside it).
        "ms_per_unit": {"app": round(app * per, 2), "relay": round(relay * per, 2),
                        "postgres": round(postgres * per, 2), "generator": round(generator * per, 2),
                        "other": round(other * per, 2), "all": round(busy * per, 2)},
    }

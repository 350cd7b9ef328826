"""A private PostgreSQL primary and a real streaming replica of it, for the replica-read tests.

Debian's binaries (``/usr/lib/postgresql/<version>/bin``) run as the ``postgres`` user (the server refuses
root) on free ports in a temporary directory: ``initdb``, then ``pg_basebackup -R`` into a second
directory, so the replica streams the primary's WAL exactly as a production standby would. The machine's
own server is never touched. The replica can be stopped and started again (the fallback drill); its port
comes from below the ephemeral range, so no outgoing connection takes it while it is down.

Replication is asynchronous by default, as in production (the app bounds the lag with
``ECOMMERCE_REPLICA_MAX_LAG``), so the drills can pause replay or stop the replica. The ``postgres-replica``
test layout asks for ``synchronous=True`` instead: see :func:`start_replicated_cluster`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from tests.support.processes import free_ports


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                   key=lambda p: [int(x) for x in Path(p).parent.parent.name.split(".") if x.isdigit()])
    return Path(found[-1]).parent if found else None


def _as_postgres(*command: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a server binary as the ``postgres`` user when we are root (the server refuses root)."""
    argv = [str(part) for part in command]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {result.stdout}{result.stderr}")
    return result


@dataclass
class Server:
    """One running server of the pair."""

    name: str
    data: Path
    port: int
    bin: Path
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.data.parent / f"{self.name}.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        _as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@dataclass
class ReplicatedCluster:
    """A primary and its streaming replica; ``close()`` stops both and deletes their files."""

    root: Path
    primary: Server
    replica: Server

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far.

        The target is the end of a WAL record written for the purpose (a logical message, which any
        ``wal_level`` above ``minimal`` logs) in a transaction whose commit flushes it at once, not
        ``pg_current_wal_insert_lsn()``: on an idle primary that can point just past a page header no
        record fills yet, and a record nobody flushes is not sent; either way the replica only got there
        when the primary next logged a standby snapshot, up to 15 s later."""
        conn = psycopg2.connect(self.primary.url())
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = local")  # flushed here, whatever the cluster's
                cur.execute("SELECT pg_logical_emit_message(true, 'ecommerce-tests', 'caught up?')")
                target = cur.fetchone()[0]
        finally:
            conn.close()
        deadline = time.monotonic() + timeout
        conn = psycopg2.connect(self.replica.url())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while True:
                    cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))
                    if cur.fetchone()[0]:
                        return
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the replica did not replay up to {target} within {timeout} s")
                    time.sleep(0.05)
        finally:
            conn.close()

    def create_database(self, name: str, template: str | None = None) -> tuple[str, str]:
        """A new database on the primary (a copy of ``template`` when given); returns (primary URL, replica
        URL) once the replica has it."""
        conn = psycopg2.connect(self.primary.url())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            conn.close()
        self.wait_caught_up()
        return self.primary.url(name), self.replica.url(name)

    def close(self) -> None:
        for server in (self.replica, self.primary):
            if server.running():
                with contextlib.suppress(RuntimeError):
                    server.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_replicated_cluster(max_connections: int = 100, *, synchronous: bool = False) -> ReplicatedCluster:
    """initdb a primary, start it, clone it with ``pg_basebackup -R`` and start the clone as a hot standby.

    ``synchronous=True`` makes the primary wait, before a commit returns, until the standby has *replayed*
    it (``synchronous_standby_names = '*'``, ``synchronous_commit = remote_apply``). Why: the
    ``postgres-replica`` test layout runs the whole integration suite with replica reads, and its tests
    write, then read through use cases marked ``replica_reads``. With asynchronous replication such a read
    sees the write or not depending on a race; with ``remote_apply`` every committed write is on the
    replica when the commit returns, so the replica's answers are deterministic and a test that fails
    there fails for a reason. This is a test choice: production replicates asynchronously and bounds the
    lag instead. A synchronous primary blocks every commit while its standby is down, so the drills that
    pause replay or stop the replica keep the asynchronous default.
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="ecommerce-pg-"))
    shutil.chown(root, "postgres", "postgres") if os.geteuid() == 0 else None
    primary = Server("primary", root / "primary", free_ports(1), bin_dir)
    _as_postgres(bin_dir / "initdb", "-D", primary.data, "-A", "trust", "-U", "postgres", "--no-sync",
                 "-E", "UTF8", "--locale", "C")
    settings = {
        "listen_addresses": "'127.0.0.1'", "port": str(primary.port), "unix_socket_directories": f"'{root}'",
        "wal_level": "replica", "max_wal_senders": "5", "hot_standby": "on", "fsync": "off",
        "synchronous_commit": "off", "full_page_writes": "off", "shared_buffers": "32MB",
        "max_connections": str(max_connections),
    }
    if synchronous:  # replaces "synchronous_commit": "off" above
        settings |= {"synchronous_standby_names": "'*'", "synchronous_commit": "remote_apply"}
    with open(primary.data / "postgresql.conf", "a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    primary.start()
    replica = Server("replica", root / "replica", free_ports(1), bin_dir)
    # -C -S: a physical replication slot, so the primary keeps every WAL segment until the replica has it
    # (without one, a checkpoint — CREATE DATABASE forces some — can recycle the segment the replica is
    # still reading, and the replica never catches up). -c fast: an immediate checkpoint, not a spread one.
    _as_postgres(bin_dir / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                 "-D", replica.data, "-R", "-X", "stream", "-C", "-S", "replica", "--no-sync", "-c", "fast")
    with open(replica.data / "postgresql.conf", "a") as conf:
        conf.write(f"port = {replica.port}\n")
    replica.start()
    cluster = ReplicatedCluster(root, primary, replica)
    cluster.wait_caught_up()
    return cluster

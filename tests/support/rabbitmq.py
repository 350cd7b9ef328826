"""Faults on the real broker for the fault drills: close one process's connections, read queue depths,
peek at messages. Everything is scoped to one test's namespace (and process): the broker is shared with
other tests and other people, so it is never stopped and nobody else's connection is touched.

The depths come from ``rabbitmqctl``, not from the code under test: ``messages`` counts ready *and*
unacknowledged messages, so a message that a consumer took and never acked shows up.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

BROKER_PORT = 5672


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"rabbitmqctl {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def process_tree(pid: int) -> set[int]:
    """``pid`` and its descendants (Sanic's workers are children of ``ecommerce serve``)."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:  # the task ended meanwhile
                continue
    return found


def broker_ports(pids: Iterable[int]) -> set[int]:
    """The local ports of the processes' TCP connections to the broker (their sockets' inodes, looked up in
    the kernel's socket tables): what RabbitMQ calls each connection's ``peer_port``."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # the process ended meanwhile
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, for one)
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == BROKER_PORT:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def close_connections(namespace: str, pid: int, reason: str = "fault drill") -> int:
    """Close (``rabbitmqctl close_connection``) every connection of process ``pid`` (and its children)
    named for ``namespace``; how many were closed. Their clients see what a broker restart or a network
    failure looks like: CONNECTION_FORCED, channels gone, unacked messages requeued."""
    ports = broker_ports(process_tree(pid))
    name = f'"ecommerce {namespace}"'
    closed = 0
    for line in rabbitmqctl("list_connections", "--no-table-headers", "pid", "peer_port", "client_properties"
                            ).splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and name in fields[2] and int(fields[1]) in ports:
            rabbitmqctl("close_connection", fields[0], reason)
            closed += 1
    return closed


def queue_messages(namespace: str) -> dict[str, int]:
    """Messages (ready + unacknowledged) in every queue of ``namespace``: main, retry and dead-letter."""
    found = {}
    for line in rabbitmqctl("list_queues", "--no-table-headers", "name", "messages").splitlines():
        name, _, count = line.partition("\t")
        if name.startswith(f"{namespace}."):
            found[name] = int(count)
    return found


def peek(url: str, queues: Iterable[str]) -> dict[str, list[str]]:
    """The message ids waiting in each queue, left in place: every message is taken without an ack and
    goes back when the channel closes. Only meaningful while nothing else consumes these queues."""
    import aio_pika

    async def read() -> dict[str, list[str]]:
        connection = await aio_pika.connect(url, timeout=10)
        try:
            channel = await connection.channel()
            found: dict[str, list[str]] = {}
            for name in queues:
                queue = await channel.get_queue(name, ensure=True)
                ids = found.setdefault(name, [])
                while (message := await queue.get(no_ack=False, fail=False)) is not None:
                    ids.append(str(message.message_id))
            await channel.close()  # unacked: every message is back in its queue
            return found
        finally:
            await connection.close()

    return asyncio.run(read())

"""``ecommerce up``: nginx and every service of a layout as child processes of one command.

Why a supervisor of our own rather than a process manager: a laptop needs one command, no extra tool,
and the same command lines a deployment would run (``ecommerce serve --layout L --service S``, nginx
with the generated configuration), so what works here is what runs there.

Each child gets its own process group: a Ctrl-C in the terminal reaches only ``up``, which then stops
the children in order (SIGTERM to each group, a grace period, SIGKILL to what is left), so nginx's
workers go with their master and nothing is orphaned. Every line a child writes is prefixed with its
name (``[catalog] ...``), stdout to stdout and stderr to stderr.

A service of several instances (``instances = N``, ``--instances N``) runs as ``app#1``, ``app#2``, ...:
the first instance of each service starts alone and migrates (and loads the demo data), the others start
once it is ready, with ``--no-migrate``. When one instance dies the others go on serving and the gateway
routes around it (``up`` says so and keeps running); only when a service has no instance left does ``up``
stop everything, as with one instance.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ecommerce.kernel.layout import Address, Layout
from ecommerce.kernel.settings import Settings

GATEWAY = "gateway"
#: How long a child has between SIGTERM and SIGKILL.
STOP_GRACE = 15.0


def gateway_config(layout: Layout, settings: Settings, *, port: int | None, layout_source: str,
                   tls: tuple[str, str] | None = None, openapi: Path | None = None) -> str:
    """The nginx configuration of ``layout`` (what ``ecommerce gateway nginx`` writes). ``ValueError``
    when two modules' routes cannot be told apart."""
    from ecommerce.gateway.nginx import render
    from ecommerce.gateway.routes import module_routes
    from ecommerce.kernel.registry import discover

    installed = discover()
    routes = {module: module_routes(installed[module])
              for service in layout.services.values() for module in service.modules}
    return render(layout, routes, port=port, max_body_bytes=settings.max_body_bytes,
                  layout_source=layout_source, tls=tls, openapi=openapi)


def write_openapi(path: Path, settings: Settings) -> Path:
    """The OpenAPI document of every enabled module, as the monolith serves it, into ``path``."""
    import json

    from ecommerce.devtools.docsite.openapi import document

    path.write_text(json.dumps(document(tuple(settings.disabled_modules)), indent=1), encoding="utf-8")
    return path


def nginx_binary() -> str | None:
    """Debian's nginx (``/usr/sbin`` is not on every user's PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


def nginx_command(binary: str, conf: Path, prefix: Path) -> list[str]:
    """nginx in the foreground with its pid and temporary files under ``prefix``. As root its workers
    would switch to ``nobody``, who may not enter a private data directory: keep them as this user."""
    directives = "daemon off;" + (f" user {getpass.getuser()};" if os.geteuid() == 0 else "")
    return [binary, "-p", str(prefix), "-c", str(conf), "-e", "stderr", "-g", directives]


def url_of(address: Address) -> str:
    """The URL a client on this machine uses for ``address`` (a wildcard bind is reached on loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address.host, address.host)
    return f"http://{Address(host, address.port)}"


@dataclass(frozen=True)
class ChildSpec:
    """One process to run: its name (the log prefix), command line, and the URL whose ``/readyz`` says
    it is ready."""

    name: str
    argv: Sequence[str]
    ready_url: str
    #: The layout service this child is an instance of (None: the gateway).
    service: str | None = None


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes]
    pumps: list[threading.Thread] = field(default_factory=list)


def ready(url: str, timeout: float = 2.0) -> bool:
    """``GET url/readyz`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=timeout) as answer:
            return int(answer.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Supervisor:
    """Starts children, prefixes their output, waits for them to be ready, and stops them all.

    ``out``/``err`` are where prefixed lines go (the terminal); ``say`` is for ``up``'s own lines.
    """

    def __init__(self, env: Mapping[str, str], out: IO[str] | None = None, err: IO[str] | None = None,
                 grace: float = STOP_GRACE) -> None:
        self.env = dict(env)
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.grace = grace
        self.children: list[Child] = []
        #: Instances that died while another instance of their service still runs: reported, not fatal.
        self.lost: list[Child] = []
        self.stop_requested = threading.Event()
        self._lock = threading.Lock()

    def say(self, line: str, *, error: bool = False) -> None:
        self._write(self.err if error else self.out, line)

    def _write(self, stream: IO[str], line: str) -> None:
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def _pump(self, name: str, source: IO[bytes], stream: IO[str]) -> None:
        for raw in iter(source.readline, b""):
            self._write(stream, f"[{name}] {raw.decode('utf-8', 'replace').rstrip()}")
        source.close()

    def start(self, spec: ChildSpec, cwd: Path | None = None) -> Child:
        """Start one child in its own process group, its output pumped with its name as prefix."""
        process = subprocess.Popen(list(spec.argv), cwd=cwd, env=self.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        child = Child(spec, process)
        for source, stream in ((process.stdout, self.out), (process.stderr, self.err)):
            assert source is not None
            pump = threading.Thread(target=self._pump, args=(spec.name, source, stream), daemon=True)
            pump.start()
            child.pumps.append(pump)
        self.children.append(child)
        return child

    def dead(self) -> Child | None:
        """The first child that has exited, if any (instances already reported as lost excepted)."""
        return next((c for c in self.children if c.process.poll() is not None and c not in self.lost), None)

    def survivable(self, child: Child) -> bool:
        """Whether ``child`` died but another instance of its service still runs (the gateway routes around it)."""
        service = child.spec.service
        return service is not None and any(
            other is not child and other.spec.service == service and other.process.poll() is None
            for other in self.children)

    def wait_ready(self, timeout: float, probe: Callable[[str], bool] = ready) -> list[str]:
        """Poll every child's ``/readyz`` until all answer; returns the names still not ready (empty: all
        ready) when ``timeout`` passes, a child dies or a stop is requested. The gateway is asked last:
        before its services answer it could only log failed upstream connections."""
        pending = {c.spec.name: c.spec.ready_url for c in self.children}
        deadline = time.monotonic() + timeout
        while pending and not self.stop_requested.is_set() and self.dead() is None:
            for name, url in list(pending.items()):
                if name == GATEWAY and len(pending) > 1:
                    continue
                if probe(url):
                    del pending[name]
            if not pending or time.monotonic() > deadline:
                break
            self.stop_requested.wait(0.2)
        return sorted(pending)

    def watch(self) -> Child | None:
        """Block until a stop is requested (None) or a child exits that its service cannot do without
        (that child). An instance whose siblings still run is reported and left out."""
        while not self.stop_requested.wait(0.2):
            if (gone := self.dead()) is not None:
                if not self.survivable(gone):
                    return gone
                self.lost.append(gone)
                left = [c.spec.name for c in self.children if c.spec.service == gone.spec.service
                        and c.process.poll() is None]
                self.say(f"ecommerce up: {gone.spec.name} exited with status {gone.process.returncode}; "
                         f"{', '.join(left)} still serve(s) {gone.spec.service}, the gateway routes around it",
                         error=True)
        return None

    def stop_all(self) -> None:
        """SIGTERM every child's process group, wait up to ``grace`` seconds, then SIGKILL what is left
        of each group; reap everything and drain the output."""
        for child in self.children:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"ecommerce up: {child.spec.name} did not stop within {self.grace:.0f} s: SIGKILL",
                         error=True)
            # The group may hold more than the leader (nginx's workers, a service's worker processes).
            _signal_group(child.process, signal.SIGKILL)
            child.process.wait()
        for child in self.children:
            for pump in child.pumps:
                pump.join(timeout=5)

    def install_signal_handlers(self, signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM)) -> None:
        """Ctrl-C and SIGTERM ask for a stop (handled in :meth:`watch`), never an exception mid-start."""
        for signum in signals:
            signal.signal(signum, lambda *_: self.stop_requested.set())


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def service_command(layout_source: str, service: str, *, demo: bool = False, instance: int | None = None,
                    migrate: bool = True) -> list[str]:
    """The command line of one service (``instance``: one of its instances): the one a deployment would
    run, naming its service. ``serve`` applies the service's pending migrations itself before it listens
    (``migrate=False``: another instance did); ``demo`` also loads demo data."""
    return [sys.executable, "-m", "ecommerce", "serve", "--layout", layout_source, "--service", service,
            *(["--instance", str(instance)] if instance is not None else []),
            *(["--demo"] if demo else []), *([] if migrate else ["--no-migrate"])]


def children_of(layout: Layout, layout_source: str, *, demo: bool = False,
                instances_flag: int | None = None) -> list[list[ChildSpec]]:
    """What ``up`` starts, in waves: every service's first instance (which migrates), then the other
    instances. ``instances_flag``: ``up --instances N`` (each instance's ``serve`` is told its number,
    which the layout file alone may not allow)."""
    first: list[ChildSpec] = []
    others: list[ChildSpec] = []
    for name, service in layout.services.items():
        for number, address in enumerate(service.addresses, start=1):
            several = service.instances > 1
            argv = service_command(layout_source, name, demo=demo and number == 1,
                                   instance=number if several else None, migrate=number == 1)
            if instances_flag is not None and several:
                argv += ["--instances", str(instances_flag)]
            spec = ChildSpec(f"{name}#{number}" if several else name, argv, url_of(address), service=name)
            (first if number == 1 else others).append(spec)
    return [first, others] if others else [first]


def run(layout: Layout, settings: Settings, *, layout_source: str, port: int | None, run_dir: Path,
        ready_timeout: float, env: Mapping[str, str], demo: bool = False, grace: float = STOP_GRACE,
        instances_flag: int | None = None) -> int:
    """``ecommerce up``: write the gateway configuration into ``run_dir``, start nginx and every service,
    wait until each ``/readyz`` answers, then run until Ctrl-C/SIGTERM (exit 0) or until a child dies
    (the others are stopped, exit 1 naming it). The layout must be startable: callers check each
    service's settings first (:meth:`Layout.settings_for`), so a split that cannot start fails before
    anything runs."""
    binary = nginx_binary()
    if binary is None:
        print("ecommerce up: nginx is not installed (apt-get install nginx)", file=sys.stderr)
        return 2
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "nginx.conf"
    # More than one service: none of them knows every route, so the gateway serves the whole document.
    openapi = write_openapi(run_dir / "openapi.json", settings) if len(layout.services) > 1 else None
    conf.write_text(gateway_config(layout, settings, port=port, layout_source=layout_source, openapi=openapi),
                    encoding="utf-8")
    gateway = Address(layout.gateway.host, port if port is not None else layout.gateway.port)
    waves = children_of(layout, layout_source, demo=demo, instances_flag=instances_flag)
    waves[-1].append(ChildSpec(GATEWAY, nginx_command(binary, conf, run_dir), url_of(gateway)))

    supervisor = Supervisor({**env, "PYTHONUNBUFFERED": "1"}, grace=grace)
    supervisor.install_signal_handlers()
    names = ", ".join(n + (f" x{s.instances}" if s.instances > 1 else "") for n, s in layout.services.items())
    supervisor.say(f"ecommerce up: layout {layout.name}, services {names}; gateway config {conf}")
    supervisor.say(f"gateway {url_of(gateway)}  (API docs: {url_of(gateway)}/docs)")
    try:
        return _supervise(supervisor, waves, url_of(gateway), ready_timeout)
    except BaseException:  # a bug or an OS error here must not leave the children running
        supervisor.stop_all()
        raise


def _supervise(supervisor: Supervisor, waves: list[list[ChildSpec]], gateway: str, ready_timeout: float) -> int:
    """Start the children, wave after wave, and run them until a stop or a death: :func:`run`'s exit status."""
    deadline = time.monotonic() + ready_timeout
    not_ready: list[str] = []
    for wave in waves:
        for spec in wave:
            supervisor.start(spec)
        not_ready = supervisor.wait_ready(max(0.0, deadline - time.monotonic()))
        if not_ready or supervisor.dead() is not None or supervisor.stop_requested.is_set():
            break
    gone = supervisor.dead()
    if supervisor.stop_requested.is_set() and gone is None:
        supervisor.stop_all()
        return 0
    if gone is None and not_ready:
        supervisor.say(f"ecommerce up: not ready within {ready_timeout:.0f} s: {', '.join(not_ready)}; "
                       "stopping everything", error=True)
        supervisor.stop_all()
        return 1
    if gone is None:
        supervisor.say(f"ready: {gateway} (Ctrl-C stops everything)")
        gone = supervisor.watch()
    if gone is None:
        supervisor.say("ecommerce up: stopping")
        supervisor.stop_all()
        return 0
    code = gone.process.returncode
    supervisor.say(f"ecommerce up: {gone.spec.name} exited with status {code}; stopping the others", error=True)
    supervisor.stop_all()
    return 1

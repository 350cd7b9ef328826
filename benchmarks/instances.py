"""One instance vs two instances reading from a replica: the read endpoints' throughput, in one run.

Both deployments run for real with ``ecommerce up`` (nginx in front, the demo data) on one private
PostgreSQL primary with a streaming replica (``tests/support/pg_cluster.py``: ``initdb`` and
``pg_basebackup -R``, Debian's binaries as the ``postgres`` user): first one instance on the primary alone,
then two instances whose marked reads (listings, search, recommendations) go to the replica. The same wrk
load goes through the gateway to each read endpoint. In the same run the ceilings app
(``benchmarks/http/ceilings.py``: bare Sanic JSON, a raw-driver row lookup) is measured with one and two
worker processes: its factor is what this machine allows a second process at all, the yardstick for the
app's factor.

    python -m benchmarks.instances [--seconds 5] [--warmup 1] [--repetitions 3] [--connections 16] [--report]

Writes ``benchmarks/results/instances.json`` and ``docs/performance/instances.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.http import servers
from benchmarks.http.load import Target, generator, measure
from benchmarks.layouts import Running, machine_facts
from tests.support.pg_cluster import start_replicated_cluster
from tests.support.processes import free_ports

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "instances.json"
PAGE = ROOT / "docs" / "performance" / "instances.md"
API = "/api/v1"


def _layout(folder: Path, instances: int, database: str) -> tuple[Path, list[str]]:
    """A monolith layout of ``instances`` instances on free ports; the instances' URLs."""
    folder.mkdir(parents=True, exist_ok=True)
    first = free_ports(instances)
    path = folder / f"instances-{instances}.toml"
    path.write_text(f'name = "bench"\n[gateway]\naddress = "127.0.0.1:{servers.free_port()}"\n[services.app]\n'
                    f'address = "127.0.0.1:{first}"\nmodules = ["*"]\ninstances = {instances}\n'
                    f'database = "{database}"\n')
    return path, [f"http://127.0.0.1:{first + n}" for n in range(instances)]


def _targets(base: str, client: httpx.Client) -> tuple[list[Target], dict[str, Any]]:
    """The read endpoints, each checked to answer 200 with something before it is loaded, and one
    product's detail (what the bare-JSON ceiling encodes)."""
    listing = client.get(f"{API}/products", params={"limit": 20, "sort": "name"})
    listing.raise_for_status()
    ids = [item["id"] for item in listing.json()["items"]]
    word = listing.json()["items"][0]["name"].split()[0]
    found = client.get(f"{API}/search", params={"q": word})
    found.raise_for_status()
    if not found.json()["items"]:
        raise SystemExit(f"search for {word!r} found nothing")
    pages = tuple(f"{API}/products/{pid}" for pid in ids)
    recommended = tuple(f"{API}/products/{pid}/recommendations" for pid in ids)
    client.get(recommended[0]).raise_for_status()
    detail = client.get(pages[0])
    detail.raise_for_status()
    return [
        Target("products first page", base, (f"{API}/products?limit=20&sort=name",)),
        Target("search", base, (f"{API}/search?q={word}",)),
        Target("product page (cached)", base, pages),
        Target("recommendations", base, recommended),
    ], detail.json()


def _replica_reads(instances: list[str]) -> float:
    total = 0.0
    for base in instances:
        for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
            if line.startswith("db_replica_reads_total{") and 'target="replica"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


def _alternating(pairs: dict[str, tuple[Target, Target]], args: argparse.Namespace) -> dict[str, Any]:
    """Each (first, second) pair measured in turn, ``--repetitions`` times: the factor of a repetition
    compares two windows seconds apart, and the median factor is what the page quotes (absolute req/s on
    a shared machine swing between minutes)."""
    out: dict[str, Any] = {}
    for rep in range(args.repetitions):
        for name, (first, second) in pairs.items():
            got = []
            for target in (first, second):
                result = measure(target, seconds=args.seconds, warmup=args.warmup, connections=args.connections)
                if result["non_2xx"] or result["socket_errors"]:
                    raise SystemExit(f"{name}: errors under load: {result}")
                got.append(result)
            entry = out.setdefault(name, {"first": [], "second": [], "factors": []})
            entry["first"].append(got[0])
            entry["second"].append(got[1])
            entry["factors"].append(round(got[1]["rps"] / got[0]["rps"], 3))
            print(f"  [{rep + 1}/{args.repetitions}] {name:<28} {got[0]['rps']:>9.1f} -> {got[1]['rps']:>9.1f} req/s"
                  f"  x{entry['factors'][-1]:.2f}", flush=True)
    for entry in out.values():
        entry["factor"] = statistics.median(entry["factors"])
        for side in ("first", "second"):
            runs = entry[side]
            entry[f"{side}_rps"] = statistics.median(r["rps"] for r in runs)
            entry[f"{side}_p50_ms"] = statistics.median(r["p50_ms"] for r in runs)
            entry[f"{side}_p99_ms"] = statistics.median(r["p99_ms"] for r in runs)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both deployments up at once (started one after the other: the first migrates and seeds), then the
    ceilings with one and two workers, each pair measured alternately."""
    cluster = start_replicated_cluster(max_connections=300)  # two deployments' pools at once
    try:
        primary, replica = cluster.create_database("bench_instances")
        with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp:
            folder = Path(tmp)
            one_layout, _ = _layout(folder / "one", 1, primary)
            two_layout, two_urls = _layout(folder / "two", 2, primary)
            one = Running(one_layout, folder / "one")
            try:
                two = Running(two_layout, folder / "two", {"ECOMMERCE_DATABASE_REPLICA_URL": replica})
                try:
                    cluster.wait_caught_up()
                    with httpx.Client(base_url=one.url, timeout=30) as a, httpx.Client(base_url=two.url,
                                                                                       timeout=30) as b:
                        first, detail = _targets(one.url, a)
                        second, again = _targets(two.url, b)
                    if detail != again:
                        raise SystemExit("the two deployments serve different product pages")
                    before = _replica_reads(two_urls)
                    endpoints = _alternating({t.name: (t, u) for t, u in zip(first, second, strict=True)}, args)
                    on_replica = _replica_reads(two_urls) - before
                finally:
                    two.close()
            finally:
                one.close()
            if on_replica <= 0:
                raise SystemExit("no read of the two-instance deployment went to the replica")
            payload = folder / "detail.json"
            payload.write_text(json.dumps(detail))
            log = folder / "ceilings.log"
            with servers.ceilings_server(primary, payload, 1, log) as w1, \
                    servers.ceilings_server(primary, payload, 2, log) as w2:
                ceiling = _alternating({f"ceiling: {name}": (Target(name, w1, (path,)), Target(name, w2, (path,)))
                                        for name, path in (("bare JSON", "/json"),
                                                           ("raw row lookup", f"/row/{detail['id']}"))}, args)
    finally:
        cluster.close()
    return {"endpoints": endpoints, "ceilings": ceiling, "replica_reads": on_replica}


def render(report: dict[str, Any]) -> str:
    def row(name: str, e: dict[str, Any]) -> str:
        return (f"| {name} | {e['first_rps']:,.0f} | {e['first_p50_ms']:.1f} / {e['first_p99_ms']:.1f} | "
                f"{e['second_rps']:,.0f} | {e['second_p50_ms']:.1f} / {e['second_p99_ms']:.1f} | "
                f"{e['factor']:.2f} ({', '.join(f'{f:.2f}' for f in e['factors'])}) |")

    endpoints, ceilings = report["endpoints"], report["ceilings"]
    table = "\n".join([row(n, e) for n, e in endpoints.items()] + [row(n, e) for n, e in ceilings.items()])
    factors = [e["factor"] for e in endpoints.values()]
    ceiling_factors = [e["factor"] for e in ceilings.values()]
    m = report["machine"]
    return f"""# Instances: one vs two with a replica

The read endpoints' throughput with **two app instances whose marked reads go to a streaming replica**
against **one instance on the primary alone**, measured on the same machine in one run by
`python -m benchmarks.instances` (`benchmarks/instances.py`; raw figures in
`benchmarks/results/instances.json`). Both deployments run for real with `ecommerce up` (nginx in front,
the demo data, in-process cache) on one private PostgreSQL primary and its streaming standby
(`tests/support/pg_cluster.py`), both up at once; the load ({m['generator']}, {report['connections']}
connections, {report['seconds']:g} s per window after a {report['warmup']:g} s warm-up) goes through each
gateway in turn, one deployment then the other (repetitions per endpoint: {report['repetitions']}). In the same run
the ceilings app (a bare Sanic JSON endpoint and a raw-driver row lookup, no middleware) is measured the
same way with one and with two worker processes: its factor is what this machine gives a second process
at all, the yardstick for the app's factor ([HTTP](http.md) explains the ceilings). The factor is the
median of the repetitions' factors (each listed); req/s and latencies are medians too.

| endpoint | req/s (1 instance; ceilings: 1 worker) | p50 / p99 ms \
| req/s (2 instances + replica; ceilings: 2 workers) | p50 / p99 ms | factor (repetitions) |
|---|---|---|---|---|---|
{table}

The app's factors range from {min(factors):.2f} to {max(factors):.2f}; the ceilings' own factors are
{' and '.join(f'{f:.2f}' for f in ceiling_factors)}. During the measured windows
{report['replica_reads']:,.0f} marked reads of the two-instance deployment ran on the replica.

**What limits it here**: one machine with {m['cpus']} CPUs runs the load generator, nginx, both instances,
the primary and the standby, so a second instance has no core of its own; the factor can only approach
the ceilings', not 2. On separate machines each instance brings its own cores and the replica takes the
listing, search and recommendation reads off the primary: the [Scaling](../scaling.md) page extends the
picture to many machines.

Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}; load average at the start {m['load']}.
The machine is shared with other work, so treat small differences as noise; rerun to compare.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only rewrite the page from the last results")
    for flag, kind, default in (("--seconds", float, 5), ("--warmup", float, 1), ("--repetitions", int, 3),
                                ("--connections", int, 16)):
        parser.add_argument(flag, type=kind, default=default)
    args = parser.parse_args()
    if args.report:
        PAGE.write_text(render(json.loads(RESULTS.read_text())))
        return 0
    machine = {**machine_facts(), "generator": generator()}
    started = time.time()
    report = {"machine": machine, "started": started, "seconds": args.seconds, "warmup": args.warmup,
              "connections": args.connections, "repetitions": args.repetitions, **run(args)}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    PAGE.write_text(render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

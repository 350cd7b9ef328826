"""``python -m benchmarks.http``: load the shop's hot endpoints and their ceilings in one run.

For each backend and worker count: start the app on a fresh database loaded with the demo data
(``ecommerce seed --scale N``), prepare and check every endpoint's answer, start the ceilings app
(``benchmarks/http/ceilings.py``) on the same database, then measure each target with wrk at fixed
connections after a warm-up; then restart the app with its read cache off (``ECOMMERCE_CACHE_TTL=0``)
for the cache-miss figure, and drive checkouts on both. Writes ``results/<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.http import checkout, load, servers
from benchmarks.http.load import Target
from benchmarks.http.scenario import API, Prepared, WrongAnswer, expect, prepare

HERE = Path(__file__).resolve().parent
#: Which ceiling each endpoint is held against (a cache hit never touches the database).
CEILING_OF = {
    "product_cached": "ceiling_json",
    "product_uncached": "ceiling_row",
    "products_first_page": "ceiling_row",
    "products_deep_page": "ceiling_row",
    "search": "ceiling_row",
    "cart": "ceiling_row",
}
READ_ENDPOINTS = tuple(CEILING_OF)


@contextmanager
def database(backend: str, data_dir: Path) -> Iterator[str]:
    if backend == "postgres":
        with servers.postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{data_dir / 'bench.db'}"


def targets(base: str, ceilings: str, p: Prepared) -> list[Target]:
    return [
        Target("ceiling_json", ceilings, ("/json",)),
        Target("ceiling_row", ceilings, (f"/row/{p.product_id}",)),
        Target("product_cached", base, (f"{API}/products/{p.product_id}",)),
        Target("products_first_page", base, (f"{API}/products",)),
        Target("products_deep_page", base, (f"{API}/products?cursor={quote(p.deep_cursor)}",)),
        Target("search", base, (f"{API}/search?q={quote(p.search_word)}",)),
        Target("cart", base, (f"{API}/cart",), headers=p.cart_customer.auth),
    ]


def check_ceilings(ceilings: str, p: Prepared) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{ceilings}/json") as answer:
        expect(json.load(answer) == p.detail, "the bare ceiling does not serve the product's detail")
    with urllib.request.urlopen(f"{ceilings}/row/{p.product_id}") as answer:
        row = json.load(answer)
        expect(row["id"] == p.product_id and row["name"] == p.detail["name"], "the raw-driver ceiling read another row")


def profile(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy samples the app's process (and its workers) while the load runs."""
    py_spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--duration",
                             str(max(1, round(seconds))), "--rate", "200", "--nonblocking", "--format",
                             "flamegraph", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out

    def measure(self, target: Target, pid: int | None = None, label: str = "") -> dict[str, Any]:
        a = self.args
        spy = None
        if a.profile and pid is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            spy = profile(pid, self.out / f"profile-{label}-{target.name}.svg", a.seconds)
        result = load.measure(target, seconds=a.seconds, warmup=a.warmup, connections=a.connections)
        if spy is not None:
            spy.wait()
        print(f"  {target.name:<22} {result['rps']:>9.1f} req/s  p50 {result['p50_ms']:.2f} ms  "
              f"p99 {result['p99_ms']:.2f} ms  non-2xx {result['non_2xx']}", flush=True)
        expect(result["non_2xx"] == 0 and result["socket_errors"] == 0, f"{target.name}: errors under load {result}")
        return result

    def one_round(self, backend: str, env: dict[str, str], db_url: str, workers: int, round_no: int,
                  work: Path) -> dict[str, Any]:
        a = self.args
        label = f"{backend}-w{workers}"
        log = work / "servers.log"
        results: dict[str, Any] = {}
        with servers.app_server(env, workers, log) as (base, proc):
            prepared = asyncio.run(prepare(base, a.buyers, round_no))
            payload = work / "detail.json"
            payload.write_text(json.dumps(prepared.detail))
            with servers.ceilings_server(db_url, payload, workers, log) as ceilings:
                check_ceilings(ceilings, prepared)
                for target in targets(base, ceilings, prepared):
                    pid = proc.pid if target.base == base else None
                    results[target.name] = self.measure(target, pid, label)
            login = Target("login", base, (f"{API}/auth/login",), method="POST",
                           body={"email": prepared.login[0], "password": prepared.login[1]})
            results["login"] = self.measure(login)
            drive = asyncio.run(checkout.drive(base, prepared, a.seconds))
            drive["oversell"] = checkout.oversell(db_url, prepared)
            print(f"  {'checkout':<22} {drive['checkouts_per_s']:>9.1f} orders/s  statuses {drive['statuses']}  "
                  f"oversold {drive['oversell']['oversold_units']}", flush=True)
            expect(drive["server_errors"] == 0, f"checkout answered 5xx: {drive['statuses']}")
            expect(drive["oversell"]["oversold_units"] == 0 and not drive["oversell"]["negative_free_stock"],
                   f"oversold: {drive['oversell']}")
            expect(drive["placed"] > 0, "no checkout succeeded")
            results["checkout"] = drive
        uncached_env = dict(env, ECOMMERCE_CACHE_TTL="0")
        with servers.app_server(uncached_env, workers, log) as (base, proc):
            target = Target("product_uncached", base, (f"{API}/products/{prepared.product_id}",))
            fresh = asyncio.run(_detail(base, prepared.product_id))
            expect(fresh["id"] == prepared.product_id, "uncached detail is not the product")
            results["product_uncached"] = self.measure(target, proc.pid, label)
        for name, ceiling in CEILING_OF.items():
            results[name]["ceiling"] = ceiling
            results[name]["ratio"] = round(results[name]["rps"] / results[ceiling]["rps"], 3)
        return {"workers": workers, "deep_page_number": prepared.deep_page, "search_word": prepared.search_word,
                "endpoints": results}

    def backend(self, backend: str) -> dict[str, Any]:
        a = self.args
        with tempfile.TemporaryDirectory(prefix="ecommerce-bench-") as tmp:
            work = Path(tmp)
            with database(backend, work) as db_url:
                env = servers.app_env(work / "data", db_url, ECOMMERCE_ACCESS_TOKEN_TTL="3600",
                                      ECOMMERCE_WORKER_THREADS=str(a.threads) if a.threads else
                                      os.environ.get("ECOMMERCE_WORKER_THREADS", "16"))
                servers.run_cli(env, "migrate")
                servers.run_cli(env, "seed", "--scale", str(a.scale))
                servers.run_cli(env, "events", "relay")  # the search index follows catalog events
                rounds = []
                for round_no, workers in enumerate(a.workers):
                    print(f"{backend}, {workers} worker(s):", flush=True)
                    rounds.append(self.one_round(backend, env, db_url, workers, round_no, work))
        report: dict[str, Any] = {
            "backend": backend,
            "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
            "settings": {"seconds": a.seconds, "warmup": a.warmup, "connections": a.connections,
                         "buyers": a.buyers, "scale": a.scale, "generator": load.generator(), "wrk_threads": 1},
            "rounds": rounds,
        }
        by_workers = {r["workers"]: r["endpoints"] for r in rounds}
        if 1 in by_workers and 2 in by_workers:
            report["scaling_2_over_1"] = {
                name: round(by_workers[2][name]["rps"] / by_workers[1][name]["rps"], 2)
                for name in (*READ_ENDPOINTS, "ceiling_json", "ceiling_row")
            }
        return report


async def _detail(base: str, product_id: int) -> dict[str, Any]:
    from benchmarks.http.client import Connection
    from benchmarks.http.scenario import call

    conn = Connection(base)
    try:
        found: dict[str, Any] = await call(conn, "GET", f"/products/{product_id}")
        return found
    finally:
        await conn.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="Sanic worker processes (rounds)")
    parser.add_argument("--seconds", type=float, default=10, help="measured window per endpoint")
    parser.add_argument("--warmup", type=float, default=3, help="discarded warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--buyers", type=int, default=32, help="concurrent customers checking out")
    parser.add_argument("--scale", type=int, default=1, help="demo data size factor (ecommerce seed --scale)")
    parser.add_argument("--threads", type=int, default=0, help="ECOMMERCE_WORKER_THREADS for the app (0: default)")
    parser.add_argument("--profile", action="store_true", help="py-spy flamegraphs of the app, beside the results")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: checks it runs and answers right")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.warmup, args.connections, args.buyers = 1, 0, 8, 4
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    bench = Bench(args)
    args.out.mkdir(parents=True, exist_ok=True)
    for backend in args.backend:
        try:
            report = bench.backend(backend)
        except WrongAnswer as exc:
            print(f"benchmark failed on {backend}: {exc}", file=sys.stderr)
            return 1
        path = args.out / f"{backend}.json"
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

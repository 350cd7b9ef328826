"""Monolith vs split layout on the same machine in one run: what the network hop costs.

Each layout runs for real (``ecommerce up``: nginx + its services on PostgreSQL, events over RabbitMQ,
demo data); the same client then measures through the gateway: checkout latency (``POST /orders``, one
line, one at a time), checkout throughput (``--concurrency`` customers at once) and the product page.
In the split layout every checkout crosses from core to the catalog service (``reserve_at_prices``),
the cart's live prices too (``snapshot``), and the catalog service checks each token with the users
service (once per token per ``ECOMMERCE_SESSION_CHECK_TTL``).

    python -m benchmarks.layouts [--checkouts 150] [--concurrency 4] [--reads 300]

Writes ``benchmarks/results/layouts.json`` and ``docs/performance/layouts.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "layouts.json"
PAGE = ROOT / "docs" / "performance" / "layouts.md"
POSTGRES = os.environ.get("ECOMMERCE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
BROKER = os.environ.get("ECOMMERCE_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
SPLIT = {"core": ["users", "orders", "payments"], "catalog": ["catalog", "search", "recommendations"],
         "notifications": ["notifications"]}
PASSWORD = "a long enough passphrase 1"
ADDRESS = {"street": "1 Bench Street", "city": "Springfield", "postal_code": "62701", "country": "US"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_database(name: str) -> str:
    admin = psycopg2.connect(f"{POSTGRES}/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{POSTGRES}/{name}"


def _layout(kind: str, folder: Path) -> tuple[Path, str]:
    """The layout file and the URL of the database that holds the catalog."""
    services = {"app": ["*"]} if kind == "monolith" else SPLIT
    text = f'name = "{kind}"\n[gateway]\naddress = "127.0.0.1:{_port()}"\ndefault = "{next(iter(services))}"\n'
    text += f'[events]\nbroker = "{BROKER}"\n'
    catalog = ""
    for name, modules in services.items():
        url = _fresh_database(f"ecommerce_bench_{kind}_{name}")
        catalog = url if "catalog" in modules or "*" in modules else catalog
        text += (f'[services.{name}]\naddress = "127.0.0.1:{_port()}"\nmodules = {json.dumps(modules)}\n'
                 f'database = "{url}"\n')
    path = folder / f"{kind}.toml"
    path.write_text(text)
    return path, catalog


def _well_stocked(catalog_url: str, units: int) -> list[int]:
    """Products with at least ``units`` free units (the demo's stock varies from 0 to 150 per warehouse)."""
    with psycopg2.connect(catalog_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT product_id FROM catalog.inventory GROUP BY product_id "
                    "HAVING SUM(quantity - reserved) >= %s ORDER BY product_id", (units,))
        found = [int(row[0]) for row in cur.fetchall()]
    conn.close()
    return found


class Running:
    """``ecommerce up --layout FILE --demo`` until closed."""

    def __init__(self, layout: Path, folder: Path, extra: dict[str, str] | None = None) -> None:
        self.port = _port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMMERCE_")}
        env.update(ECOMMERCE_DATA_DIR=str(folder / "data"), ECOMMERCE_SECRET_KEY="bench-" + "b" * 40,
                   ECOMMERCE_EVENT_BROKER_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}", ECOMMERCE_LOG_LEVEL="WARNING",
                   ECOMMERCE_RATE_LIMIT="1000000/minute", ECOMMERCE_USER_RATE_LIMIT="1000000/minute",
                   ECOMMERCE_AUTH_RATE_LIMIT="1000000/minute")
        env.update(extra or {})
        self.process = subprocess.Popen([sys.executable, "-m", "ecommerce", "up", "--layout", str(layout), "--port",
                                         str(self.port), "--demo"], cwd=folder, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout or ()], daemon=True).start()
        deadline = time.monotonic() + 300
        seen: list[str] = []
        while True:
            try:
                seen.append(lines.get(timeout=1))
                if seen[-1].startswith("ready"):
                    break
            except queue.Empty:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = "".join(line[-300:].rstrip("\n") + "\n" for line in seen[-25:])
                    raise SystemExit(f"ecommerce up --layout {layout} did not get ready:\n{tail}") from None
        threading.Thread(target=lambda: [lines.get() for _ in iter(int, 1)], daemon=True).start()  # keep draining
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def _customer(client: httpx.Client) -> tuple[dict[str, str], int]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).raise_for_status()
    token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    address = client.post("/api/v1/users/me/addresses", headers=headers, json=ADDRESS)
    address.raise_for_status()
    return headers, int(address.json()["id"])


def _checkouts(client: httpx.Client, products: list[int], count: int, offset: int) -> list[float]:
    """``count`` checkouts of one unit each by one new customer; the latency of each ``POST /orders``."""
    headers, address = _customer(client)
    took: list[float] = []
    for n in range(count):
        line = {"product_id": products[(offset + n) % len(products)], "quantity": 1}
        client.post("/api/v1/cart/items", headers=headers, json=line).raise_for_status()
        started = time.perf_counter()
        placed = client.post("/api/v1/orders", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                             json={"address_id": address})
        took.append(time.perf_counter() - started)
        if placed.status_code != 201:
            raise SystemExit(f"checkout answered {placed.status_code}: {placed.text}")
    return took


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2), "mean_ms": round(statistics.fmean(ms), 2)}


def measure(kind: str, checkouts: int, concurrency: int, reads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        folder = Path(tmp)
        layout, catalog_url = _layout(kind, folder)
        shop = Running(layout, folder)
        try:
            with httpx.Client(base_url=shop.url, timeout=60) as client:
                products = _well_stocked(catalog_url, 40)
                _checkouts(client, products, 10, 0)  # warm-up: connections, caches, first tokens
                latency = _checkouts(client, products, checkouts, 10)
                started = time.perf_counter()
                per_client = max(checkouts // concurrency, 1)
                with ThreadPoolExecutor(concurrency) as pool:
                    done = sum(len(f.result()) for f in [pool.submit(_checkouts, client, products, per_client, 1000 * i)
                                                         for i in range(concurrency)])
                throughput = done / (time.perf_counter() - started)
                product_page: list[float] = []
                for n in range(reads):
                    started = time.perf_counter()
                    client.get(f"/api/v1/products/{products[n % len(products)]}").raise_for_status()
                    product_page.append(time.perf_counter() - started)
        finally:
            shop.close()
    return {"layout": kind, "checkout": _summary(latency), "checkout_throughput_per_s": round(throughput, 1),
            "concurrency": concurrency, "product_page": _summary(product_page)}


def render(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['layout']} | {r['checkout']['p50_ms']} | {r['checkout']['p99_ms']} | "
        f"{r['checkout_throughput_per_s']} | {r['product_page']['p50_ms']} | {r['product_page']['p99_ms']} |"
        for r in results)
    mono, split = results[0], results[1]
    hop = round(split["checkout"]["p50_ms"] - mono["checkout"]["p50_ms"], 2)
    return f"""# Layouts: monolith vs split

What carving modules out costs, measured on the same machine in one run by `python -m benchmarks.layouts`
(`benchmarks/layouts.py`; raw figures in `benchmarks/results/layouts.json`). Both layouts run for real with
`ecommerce up`: nginx in front, PostgreSQL, events over RabbitMQ, the demo data; only where the modules
run differs ([Carving out a module](../carving-out.md)). Checkout is `POST /api/v1/orders` with one line,
{mono['checkout']['n']} in a row by one customer, then {mono['concurrency']} customers at once for the
throughput; the product page is `GET /api/v1/products/{{id}}` ({mono['product_page']['n']} requests).

| layout | checkout p50 (ms) | checkout p99 (ms) | checkouts/s ({mono['concurrency']} clients) \
| product page p50 (ms) | product page p99 (ms) |
|---|---|---|---|---|---|
{rows}

**The hop**: in the split layout a checkout makes one call from core to the catalog service
(`reserve_at_prices`: the reservation and the prices in one catalog transaction) and adding to the cart
one more (`snapshot`), each with a service token; the median checkout changed by {hop:+} ms. The hop is not
the only difference: the split also spreads the work over three processes (three interpreters, event
loops and thread pools; the relay and the other modules' consumers run elsewhere), which on an idle
multi-core machine can outweigh a loopback round trip, while the throughput column shows what
the extra processes and calls cost once the clients compete for the same cores. The product page does
not cross services (nginx sends it straight to the catalog service).

Machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}; load average at the start
{machine['load']}. The machine is shared with other work, so treat small differences as noise; rerun
to compare.
"""


def machine_facts() -> dict[str, Any]:
    """What a results file says about the machine it was measured on (the load average at the start)."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load": [round(x, 2) for x in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--report", action="store_true", help="only rewrite the page from the last results")
    args = parser.parse_args()
    if args.report:
        saved = json.loads(RESULTS.read_text())
        PAGE.write_text(render(saved["results"], saved["machine"]))
        return 0
    machine = machine_facts()
    results = [measure(kind, args.checkouts, args.concurrency, args.reads) for kind in ("monolith", "split")]
    RESULTS.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    PAGE.write_text(render(results, machine))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

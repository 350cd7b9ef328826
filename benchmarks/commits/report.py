"""``python -m benchmarks.commits report``: docs/performance/commits.md from the committed results.

``benchmarks/results/commits.json`` is the current code; ``commits-before.json`` the same benchmark run on
the code before the checkout-throughput work cut the request path's commits (commit a4ba72a), so the page
shows what changed, step by step;
``commits-batched-relay.json`` the step between (the batched relay, before the handlers were made atomic
and add to cart lost its second catalog read), for the middle column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "performance" / "commits.md"
#: The request path's budget (the checkout-throughput work): idempotency, reservation, order, plus the address read.
BUDGET = {"post_orders": 4.0}
#: The checkout-throughput work's target: at most 12 commits per checkout in total, request path and relay, in-process.
TARGET = 12.0


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _steps(before: dict[str, float], after: dict[str, float]) -> list[str]:
    rows = ["| database: code that committed (kind) | before | now |", "|---|---|---|"]
    for label in sorted(set(before) | set(after), key=lambda k: (-after.get(k, 0), -before.get(k, 0), k)):
        rows.append(f"| `{label}` | {before.get(label, 0):g} | {after.get(label, 0):g} |")
    return rows


def _woken_rows(then: dict[str, Any], mid: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """The same checkouts with the relay woken after each one (older results did not measure it: —)."""
    def cell(result: dict[str, Any], key: str) -> str:
        woken = result.get("woken")
        return "—" if woken is None else f"{woken[key]:g}"

    return [
        f"| relay woken after each checkout, per checkout | {cell(then, 'relay_per_checkout')} | "
        f"{cell(mid, 'relay_per_checkout')} | {cell(now, 'relay_per_checkout')} |",
        f"| total with the relay woken after each checkout | {cell(then, 'per_checkout')} | "
        f"{cell(mid, 'per_checkout')} | **{cell(now, 'per_checkout')}** |",
    ]


def _woken_section(now: dict[str, Any]) -> list[str]:
    woken = now.get("woken")
    if woken is None:
        return []
    return [
        "## The relay woken after each checkout",
        "",
        f"The same {now['checkouts']} checkouts again, each followed by what the app's background relay does "
        "when a checkout's commits wake it (`Relay.run_hinted` over the outboxes the checkout wrote, pass after "
        "pass until nothing hints again): batches of one checkout's events, so the relay's fixed costs (a claim "
        "and a mark per outbox, an inbox transaction per consuming module) are not shared. Under load, "
        "events accumulate while a pass runs and the batches grow: the HTTP benchmark counts the commits per "
        "checkout with two workers under load (`docs/performance/http.md`). Here: "
        f"{woken['xact_commit']} transactions counted = {woken['traced']} traced + {woken['new_sessions']} new "
        f"sessions; {woken['delivered']} events delivered by the woken passes, {woken['left_for_a_full_pass']} "
        "left for a full pass afterwards.",
        "",
        "| database: code that committed (kind) | per checkout |",
        "|---|---|",
        *[f"| `{label}` | {count:g} |" for label, count in woken["relay_steps"].items()],
        "",
    ]


def _agreement(req: dict[str, Any], rel: dict[str, Any]) -> str:
    """Whether the counter equals the trace; a difference (the server's own transactions, e.g. autovacuum
    of the system catalogs) is stated, not hidden: the per-checkout figures use the counter."""
    parts = [f"{w['xact_commit']} transactions counted in the {name} window, {w['traced']} traced + "
             f"{w['new_sessions']} new sessions" for name, w in (("request", req), ("relay", rel))]
    exact = all(w["xact_commit"] == w["traced"] + w["new_sessions"] for w in (req, rel))
    if exact:
        return "The counter and the tracer agree exactly: " + "; ".join(parts) + "."
    return ("The counter counted more than the tracer saw (transactions of the server's own, counted in the "
            "per-checkout figures all the same): " + "; ".join(parts) + ".")


def _transports(local: dict[str, Any], broker: dict[str, Any] | None) -> list[str]:
    """The same checkouts with events over RabbitMQ (``--transport rabbitmq``), beside the in-process run."""
    if broker is None:
        return []

    def row(label: str, pick: Any) -> str:
        return f"| {label} | {pick(local):g} | {pick(broker):g} |"

    return [
        "## Both transports",
        "",
        "`python -m benchmarks.commits --transport rabbitmq` runs the same checkouts with "
        "`ECOMMERCE_EVENT_BROKER_URL` set: the relay publishes each claimed batch to RabbitMQ with publisher "
        "confirms and marks it delivered in one statement, and the consuming modules take their messages from "
        "their queues (drained by the benchmark's process, as the app's consumers would) through the same "
        "inbox transactions ([ADR 0022](../adr/0022-integration-events-over-rabbitmq-with-aio-pika.md)). "
        "By design the broker adds no database transaction: the relay no longer runs the handlers, the "
        "consumers do, one inbox transaction per module and batch either way. The small difference measured "
        "below comes from how the batches split (a consumer takes what its queue holds when it drains, not "
        "the outbox's batch) and from the transactions the counter saw but the tracer did not attribute.",
        "",
        "| per checkout | in-process | RabbitMQ |",
        "|---|---|---|",
        row("request path", lambda r: r["request_path"]["per_checkout"]),
        row("relay and consumers, one drain", lambda r: r["relay"]["per_checkout"]),
        row("**total, one drain**", lambda r: r["total_per_checkout"]),
        row("total, relay woken after each checkout", lambda r: r["woken"]["per_checkout"]),
        "",
        f"Runs: in-process {local['generated_at']}, RabbitMQ {broker['generated_at']}; {broker['checkouts']} "
        f"checkouts each. {_agreement(broker['request_path'], broker['relay'])}",
        "",
    ]


def render(results: Path = RESULTS) -> str:
    now = json.loads((results / "commits.json").read_text())
    then_path = results / "commits-before.json"
    then = json.loads(then_path.read_text()) if then_path.is_file() else now
    mid_path = results / "commits-batched-relay.json"
    mid = json.loads(mid_path.read_text()) if mid_path.is_file() else then
    req, rel = now["request_path"], now["relay"]
    old_req, old_rel = then["request_path"], then["relay"]
    mid_req, mid_rel = mid["request_path"], mid["relay"]
    lines = [
        "# Commits per checkout",
        "",
        "<!-- Generated by `python -m benchmarks.commits report` from benchmarks/results/commits*.json: "
        "edit benchmarks/commits/report.py, not this file. -->",
        "",
        "How many PostgreSQL transactions one checkout costs: on the request path (add one unit to the cart, "
        "then `POST /orders`) and in the relay delivering that checkout's events. Every commit is a WAL flush, so "
        "this count bounds checkout's throughput long before the CPU does. Measured by "
        "`python -m benchmarks.commits` (the checkout-throughput work, "
        "[ADR 0015](../adr/0015-checkout-as-a-local-saga.md)): "
        f"{now['checkouts']} sequential checkouts over HTTP through the real app (one worker, relay off), "
        "then the kernel's relay-until-idle (one drain), then as many checkouts again with the relay woken "
        "after each; on a fresh database; `xact_commit` of `pg_stat_database` around each part. With peewee "
        "in autocommit mode, every statement outside `atomic()` is a transaction of its own, reads included "
        "(a read-only one flushes no WAL, but PostgreSQL counts it, and it is a round trip).",
        "",
        "| part | before | batched relay | now |",
        "|---|---|---|---|",
        f"| request path, per checkout | {old_req['per_checkout']:g} | {mid_req['per_checkout']:g} | "
        f"**{req['per_checkout']:g}** |",
        f"| - `POST /orders` | {old_req['per_request']['post_orders']:g} | "
        f"{mid_req['per_request']['post_orders']:g} | "
        f"**{req['per_request']['post_orders']:g}** (budget {BUDGET['post_orders']:g}) |",
        f"| - add to cart | {old_req['per_request']['add_to_cart']:g} | {mid_req['per_request']['add_to_cart']:g} | "
        f"{req['per_request']['add_to_cart']:g} |",
        f"| relay, per checkout (one drain) | {old_rel['per_checkout']:g} | {mid_rel['per_checkout']:g} | "
        f"{rel['per_checkout']:g} |",
        f"| total, per checkout | {then['total_per_checkout']:g} | {mid['total_per_checkout']:g} | "
        f"**{now['total_per_checkout']:g}** (target {TARGET:g}) |",
        *_woken_rows(then, mid, now),
        "",
        f"Runs: before {then['generated_at']}, now {now['generated_at']}; PostgreSQL "
        f"{now['machine']['postgres']}, {now['machine']['cpus']} cores. {_agreement(req, rel)} "
        "New sessions are left out of the per-checkout figures: "
        "reading the counter ends the database's sessions (see *How it counts*), so each window starts by "
        "reconnecting, which a running pool does not.",
        "",
        "## The request path, step by step",
        "",
        "Each transaction is attributed by a tracer (`benchmarks/commits/tracer.py`) to the innermost "
        "`ecommerce` function on the stack; figures are per checkout.",
        "",
        "### `POST /orders`",
        "",
        *_steps(old_req["steps"]["post_orders"], req["steps"]["post_orders"]),
        "",
        "### Add to cart",
        "",
        *_steps(old_req["steps"]["add_to_cart"], req["steps"]["add_to_cart"]),
        "",
        "## The relay",
        "",
        f"Delivering the checkouts' events ({rel['delivered']} events for {now['checkouts']} checkouts) is "
        "the relay's part of the checkout-throughput work (the batched relay, [events](../events.md)); "
        "its steps as measured here:",
        "",
        *_steps(old_rel["steps"], rel["steps"]),
        "",
        *_woken_section(now),
        *_transports(now, _load("commits-rabbitmq.json")),
        "## How it counts",
        "",
        "- A backend reports its counters when a transaction ends (at most once a second) and an idle one may "
        "hold them back, so the benchmark never reads a moving counter: it ends every session on the database "
        "(`pg_terminate_backend`; a backend reports on exit), waits until none is left, and reads "
        "`xact_commit` after `pg_stat_clear_snapshot()` from a connection to another database (the reading "
        "does not count itself). The app's pool checks a connection idle for over a second before reuse and "
        "reconnects.",
        "- Autovacuum is switched off for the database's tables after a `VACUUM ANALYZE`: its workers' "
        "transactions (one per table) count in `xact_commit` too and would land in a window at random.",
        "- The tracer (`trace/sitecustomize.py`, loaded by the app's processes) writes one line per statement "
        "outside a transaction, per `COMMIT`, per pool check and per new session.",
        "- Smoke run: `tests/benchmarks/test_commits_smoke.py` (2 checkouts; the counter equals the trace, and "
        "`POST /orders` stays within its budget).",
        "",
        "```bash",
        "python -m benchmarks.commits                # PostgreSQL at ECOMMERCE_BENCH_POSTGRES_URL, ~30 s",
        "python -m benchmarks.commits --transport rabbitmq  # the same over RabbitMQ (ECOMMERCE_EVENT_BROKER_URL)",
        "python -m benchmarks.commits report         # this page",
        "```",
    ]
    return "\n".join(lines)


def write() -> Path:
    PAGE.write_text(render() + "\n")
    return PAGE

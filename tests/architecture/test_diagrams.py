"""The diagrams are drawn from the code and committed: a module, model, event or import added without
running ``ecommerce diagrams`` fails here with the command to run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from peewee import AutoField, CharField, IntegerField, Model

from ecommerce.devtools.drawings import events as events_drawing
from ecommerce.devtools.drawings import generate, layouts
from ecommerce.devtools.drawings.facts import Facts, collect, event_flows, import_graph
from ecommerce.kernel.layout import SHIPPED
from tests.support import audit_module

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ROOT / "diagrams"


def test_committed_diagram_sources_match_the_code() -> None:
    problems = generate.drift(DIAGRAMS)
    assert not problems, "\n".join(problems)


def test_every_source_has_its_png() -> None:
    for source in DIAGRAMS.glob("*.dot"):
        png = source.with_suffix(".png")
        assert png.exists(), f"{png.name} is missing: {generate.COMMAND}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _with(*extra: object) -> Facts:
    modules = {**collect().modules, **{m.name: m for m in extra}}  # type: ignore[attr-defined]
    return Facts(modules, event_flows(modules), import_graph(modules))


def test_a_new_module_without_regenerating_is_caught() -> None:
    problems = generate.drift(DIAGRAMS, _with(audit_module.module))
    assert "diagrams/er-audit.dot is missing: run `ecommerce diagrams` and commit diagrams/" in problems
    assert any(p.startswith("diagrams/monolith.dot is out of date") for p in problems)


def test_a_new_model_without_regenerating_is_caught(tmp_path: Path) -> None:
    class Wish(Model):
        id = AutoField()
        user_id = IntegerField()
        note = CharField()

        class Meta:
            database = audit_module.database
            table_name = "wishes"

    module = audit_module.module
    extended = type(module)(**{**module.__dict__, "models": [*module.models, Wish]})
    out = tmp_path / "diagrams"
    out.mkdir()
    for name, text in generate.sources(_with(module)).items():
        (out / name).write_text(text)
    assert generate.drift(out, _with(module)) == []
    assert "diagrams/er-audit.dot is out of date: run `ecommerce diagrams` and commit diagrams/" in (
        generate.drift(out, _with(extended)))


def test_the_command_writes_every_kind_once_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "diagrams"
    first = subprocess.run([sys.executable, "-m", "ecommerce", "diagrams", "--out", str(out)],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    names = {p.name for p in out.iterdir()}
    for kind in ("target-architecture", "monolith", "dependencies", "checkout", "order-states", "events",
                 "layout-monolith", "layout-split"):
        assert {f"{kind}.dot", f"{kind}.png"} <= names, kind
    assert {f"er-{m}.png" for m in collect().modules if collect().modules[m].models} <= names
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    second = subprocess.run([sys.executable, "-m", "ecommerce", "diagrams", "--out", str(out)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert second.returncode == 0 and "already matched them" in second.stdout, second.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # A drawing of a module that is gone is removed; hand-written files stay.
    (out / "er-gone.dot").write_text(f"// {generate.MARK} ...\n")
    (out / "README.md").write_text("notes")
    generate.write_all(out, render_images=False)
    assert not (out / "er-gone.dot").exists() and (out / "README.md").exists()


def test_the_drawings_show_what_the_code_says() -> None:
    facts = collect()
    texts = generate.sources(facts)
    monolith = texts["monolith.dot"]
    for name, module in facts.modules.items():
        assert f'"{name}_db"' in monolith
        for table in module.tables[:4]:
            assert table in monolith
    for flow in facts.flows:
        if flow.publisher != flow.consumer:
            assert re.search(rf'"{flow.publisher}" -> "{flow.consumer}" \[label="[^"]*{flow.event.split(".")[1]}',
                             monolith), flow
    assert '"orders" -> "catalog" [label="api"' in monolith
    dependencies = texts["dependencies.dot"]
    assert '"orders" -> "catalog" [label="catalog.api"]' in dependencies
    assert not re.search(r'"kernel" -> "(?!kernel)', dependencies), "the kernel imports no module"
    er_orders = texts["er-orders.dot"]
    assert '"order_items" -> "orders"' in er_orders  # a real foreign key inside the module
    assert '"orders" -> "users.users"' in er_orders and "id only" in er_orders  # another module's id
    for table in facts.tables("payments"):
        assert f"<B>{table.name}</B>" in texts["er-payments.dot"]
    assert "orders.api.payable(" in texts["checkout.mmd"] and "catalog.api.reserve(" in texts["checkout.dot"]
    events = texts["events.dot"]
    broker = events_drawing.topology(facts)
    for flow in facts.flows:  # each consuming module's queue binds the key of every event it subscribes to
        binding = re.search(rf'"exchange" -> "queue:{flow.consumer}" \[label="([^"]*)"', events)
        assert binding and flow.event in binding.group(1).split("\\n"), flow
        for queue in (broker.queue(flow.consumer), broker.dead_queue(flow.consumer)):
            assert f'label="{queue}\\n' in events, queue
    for name, module in facts.modules.items():
        for event in module.publishes:
            assert re.search(rf'"publisher:{name}" -> "exchange" \[label="[^"]*{re.escape(event.key())}', events)
    assert f"{len(events_drawing.retry_delays())} queues, TTL 1 s, 2 s, 4 s" in events
    from ecommerce.modules.orders import states

    for state in states.STATES:
        assert state in texts["order-states.dot"]
    target = texts["target-architecture.dot"]
    for part in ("DNS", "latency routing", "Global load balancer", "API gateway", "throttling",
                 "Message broker", "Cache", "CDN", "Search index", "Data lake"):
        assert part in target, part
    assert target.count("own database") + target.count("own store") == 6
    assert "<diagrams-icons>/" in target and "site-packages" not in target


def test_each_shipped_layout_is_drawn_from_its_file() -> None:
    facts = collect()
    texts = generate.sources(facts)
    assert {f"layout-{p.stem}.dot" for p in layouts.shipped()} == {n for n in texts if n.startswith("layout-")}
    for path in layouts.shipped():
        layout = layouts.read(path, facts)
        text = texts[f"layout-{path.stem}.dot"]
        assert f"nginx gateway\\n{layout.gateway}" in text
        for name, service in layout.services.items():
            box = re.search(rf'"service:{name}" \[label=<(.*?)>, shape', text)
            assert box and str(service.address) in box.group(1), name
            assert all(f"<BR/>{module}" in box.group(1) for module in service.modules), name
            assert f'"gateway" -> "service:{name}"' in text and f'"service:{name}" -> "events"' in text
    split = texts["layout-split.dot"]
    for service in ("core", "catalog", "notifications"):
        assert f'label="PostgreSQL ecommerce_{service}' in split
    assert "RabbitMQ" in split and "events in-process" in texts["layout-monolith.dot"]
    catalog_routes = re.search(r'"gateway" -> "service:catalog" \[label="([^"]*)"', split)
    assert catalog_routes and "/products/*/recommendations" in catalog_routes.group(1)


def test_a_module_moved_to_another_service_moves_its_routes_in_the_drawing(tmp_path: Path) -> None:
    moved = tmp_path / "moved.toml"
    moved.write_text((SHIPPED / "split.toml").read_text()
                     .replace('["users", "orders", "payments"]', '["users", "orders", "payments", "recommendations"]')
                     .replace('["catalog", "search", "recommendations"]', '["catalog", "search"]'))
    text = layouts.source(collect(), moved)
    core = re.search(r'"gateway" -> "service:core" \[label="([^"]*)"', text)
    catalog = re.search(r'"gateway" -> "service:catalog" \[label="([^"]*)"', text)
    assert core and "/products/*/recommendations" in core.group(1) and "<BR/>recommendations" in text
    assert catalog and "recommendations" not in catalog.group(1)


def test_every_committed_source_renders() -> None:
    assert shutil.which("dot"), "Graphviz is required: apt-get install graphviz (.ci/run installs it)"
    for name, text in generate.sources().items():
        if name.endswith(".dot"):
            assert generate.render(name, text)[:4] == b"\x89PNG", name

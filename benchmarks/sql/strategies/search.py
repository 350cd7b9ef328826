"""Suite 4 — product search: ``LIKE '%term%'`` vs the full-text index (FTS5 on SQLite, ``tsvector`` +
GIN on PostgreSQL) vs ``pg_trgm`` (a trigram GIN index that lets PostgreSQL answer the same ``LIKE``).

The question: "every product whose text mentions <term>", for a rare term (``titanium``, ~0.2% of
products) and a common one (``warranty``, ~40%). The generator plants both as whole lower-case words, so
substring and word matching find exactly the same products. Each variant returns the sorted ids.
"""

from __future__ import annotations

from typing import Any

from benchmarks.sql.harness import Plan, Rows, Target, execute, fetch
from ecommerce.devtools.dataset import COMMON_TERM, RARE_TERM
from ecommerce.modules.search.models import database

TERMS = {"rare": RARE_TERM, "common": COMMON_TERM}
TRGM = "bench_search_trgm"
LIKE = "SELECT product_id FROM search_documents WHERE (name || ' ' || description) LIKE ? ORDER BY product_id"
FTS_SQLITE = "SELECT product_id FROM search_fts WHERE search_fts MATCH ? ORDER BY product_id"
FTS_POSTGRES = ("SELECT product_id FROM search_documents WHERE document @@ plainto_tsquery('english', ?) "
                "ORDER BY product_id")
TRIGRAM = f"SELECT product_id FROM {TRGM} WHERE body LIKE ? ORDER BY product_id"


def prepare(target: Target) -> dict[str, Any]:
    """PostgreSQL: a copy of the documents' text with a trigram index (the LIKE variant keeps none)."""
    def build() -> None:
        db = target.db("search")
        execute(db, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
        execute(db, f"DROP TABLE IF EXISTS {TRGM}")
        execute(db, f"CREATE TABLE {TRGM} AS SELECT product_id, name || ' ' || description AS body "
                    "FROM search_documents")
        execute(db, f"CREATE INDEX {TRGM}_body ON {TRGM} USING GIN (body gin_trgm_ops)")
        execute(db, f"VACUUM ANALYZE {TRGM}")
        execute(db, "ANALYZE search_documents")

    if target.postgres:
        target.call(build)
    return {"postgres": target.postgres}


def variants(postgres: bool) -> tuple[str, ...]:
    return ("like", "fts", "trigram") if postgres else ("like", "fts")


def _ids(rows: Rows) -> Rows:
    return [r[0] for r in rows]


def like(ctx: dict[str, Any], term: str) -> Rows:
    return _ids(fetch(database, LIKE, (f"%{TERMS[term]}%",)))


def fts(ctx: dict[str, Any], term: str) -> Rows:
    if ctx["postgres"]:
        return _ids(fetch(database, FTS_POSTGRES, (TERMS[term],)))
    return _ids(fetch(database, FTS_SQLITE, (f'"{TERMS[term]}"',)))


def trigram(ctx: dict[str, Any], term: str) -> Rows:
    return _ids(fetch(database, TRIGRAM, (f"%{TERMS[term]}%",)))


VARIANTS = {"like": like, "fts": fts, "trigram": trigram}


def plan(ctx: dict[str, Any], variant: str, term: str) -> Plan:
    if variant == "like":
        return Plan("search", LIKE, (f"%{TERMS[term]}%",))
    if variant == "trigram":
        return Plan("search", TRIGRAM, (f"%{TERMS[term]}%",))
    return Plan("search", FTS_POSTGRES if ctx["postgres"] else FTS_SQLITE,
                (TERMS[term],) if ctx["postgres"] else (f'"{TERMS[term]}"',))

"""Ranked full-text search with the /products filters, highlighted snippets and keyset pagination.

Any input is safe: on SQLite the text is reduced to its words, each quoted for FTS5 (so quotes,
operators and ``*`` are just characters); on PostgreSQL ``websearch_to_tsquery`` accepts anything.
Scores are ordered ascending on both (bm25 is "lower is better"; PostgreSQL's rank is negated), and the
cursor carries (score, product id).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Any

from ecommerce.kernel.database import is_postgres
from ecommerce.kernel.errors import FieldError, ValidationFailed
from ecommerce.kernel.limits import MAX_AMOUNT
from ecommerce.kernel.pagination import Page, PageRequest
from ecommerce.modules.search.models import database

WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16
OPEN, CLOSE = "\x02", "\x03"  # highlight markers that cannot occur in text; turned into <mark> after escaping


@dataclass(frozen=True)
class SearchFilters:
    q: str
    category_ids: list[int] | None = None
    brand_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False


def fts5_query(text: str) -> str:
    """Words only, each quoted; the last one also matches as a prefix (type-ahead)."""
    words = WORD.findall(text)[:MAX_WORDS]
    if not words:
        raise ValidationFailed("Search for at least one word.", errors=[FieldError("q", "No words to search for.")])
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def marked(text: str | None) -> str | None:
    if text is None:
        return None
    return html.escape(text).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def _filters(f: SearchFilters, param: str) -> tuple[str, list[Any]]:
    clauses, args = [], []
    if f.category_ids is not None:
        clauses.append(f"d.category_id IN ({', '.join(param for _ in f.category_ids)})")
        args.extend(f.category_ids)
    for column, value, op in (("brand_id", f.brand_id, "="), ("price", f.min_price, ">="),
                              ("price", f.max_price, "<=")):
        if value is not None:
            clauses.append(f"d.{column} {op} {param}")
            args.append(value)
    if f.in_stock:
        clauses.append("d.available > 0")
    return "".join(f" AND {c}" for c in clauses), args


def search(f: SearchFilters, page: PageRequest) -> Page[dict[str, Any]]:
    postgres = is_postgres(database)
    param = "%s" if postgres else "?"
    where, args = _filters(f, param)
    if postgres:
        if not WORD.search(f.q):
            raise ValidationFailed("Search for at least one word.", errors=[FieldError("q", "No words to search for.")])
        inner = (
            "SELECT d.product_id, d.name, d.description, d.sku, d.brand, d.category, d.price, d.currency, "
            "d.available, -ts_rank_cd(d.document, q)::float8 AS score, "
            f"ts_headline('english', d.name, q, 'StartSel={OPEN},StopSel={CLOSE},HighlightAll=true') AS name_hl, "
            f"ts_headline('english', d.description, q, 'StartSel={OPEN},StopSel={CLOSE},MaxWords=24,MinWords=8')"
            " AS snippet "
            "FROM search_documents d, websearch_to_tsquery('english', %s) q "
            f"WHERE d.document @@ q{where}"
        )
        args = [f.q, *args]
    else:
        inner = (
            "SELECT d.product_id, d.name, d.description, d.sku, d.brand, d.category, d.price, d.currency, "
            "d.available, bm25(search_fts, 10.0, 4.0, 4.0, 1.0) AS score, "
            f"highlight(search_fts, 0, '{OPEN}', '{CLOSE}') AS name_hl, "
            f"snippet(search_fts, 3, '{OPEN}', '{CLOSE}', '…', 16) AS snippet "
            "FROM search_fts JOIN search_documents d ON d.product_id = search_fts.product_id "
            f"WHERE search_fts MATCH ?{where}"
        )
        args = [fts5_query(f.q), *args]
    sql = f"SELECT * FROM ({inner}) AS ranked"
    if page.cursor:
        score, after = page.cursor.get("v"), page.after_id()
        # A score is a float: an integer beyond 2^53 (or 64 bits, for SQLite) or NaN/Infinity is forged.
        if (not isinstance(score, int | float) or isinstance(score, bool) or abs(score) > MAX_AMOUNT
                or not math.isfinite(score)):
            raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "Invalid cursor")])
        sql += f" WHERE (score > {param} OR (score = {param} AND product_id > {param}))"
        args.extend([float(score), float(score), after])
    sql += f" ORDER BY score, product_id LIMIT {page.limit + 1}"
    cursor = database.execute_sql(sql, args)
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    items = [
        {
            "id": row["product_id"], "name": row["name"], "sku": row["sku"], "brand": row["brand"],
            "category": row["category"], "price": row["price"], "currency": row["currency"],
            "availability": {"total": row["available"]}, "highlighted_name": marked(row["name_hl"]),
            "snippet": marked(row["snippet"]), "score": row["score"],
        }
        for row in rows
    ]
    return Page.from_rows(items, page.limit, lambda last: {"v": last["score"], "id": last["id"]})

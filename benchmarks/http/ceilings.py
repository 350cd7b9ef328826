"""The two ceilings every endpoint is compared with, served by a tiny separate Sanic app.

- ``GET /json``: bare Sanic encoding a product's detail (the same dict the app serves; no middleware,
  no database, no thread pool): the best any JSON endpoint of this stack can do on this machine.
- ``GET /row/<id>``: the same product row read with the raw driver (psycopg2 or sqlite3), one
  connection per worker, blocking on the event loop, no ORM, no pool hop: the best any endpoint
  that reads the database can do.

Run by the benchmark as ``python -m benchmarks.http.ceilings --port P --workers N --database URL``;
never part of the production app.
"""

from __future__ import annotations

import argparse
import json as json_module
import sqlite3
from functools import partial
from typing import Any

from sanic import HTTPResponse, Request, Sanic, json, raw
from sanic.worker.loader import AppLoader

ROW_SQL = (
    "SELECT id, name, description, price, currency, identification, brand_id, category_id, created_at "
    "FROM product WHERE id = {mark} AND deleted_at IS NULL"
)
COLUMNS = ("id", "name", "description", "price", "currency", "identification", "brand_id", "category_id",
           "created_at")


def _connect(url: str) -> tuple[Any, str]:
    if url.startswith("sqlite:///"):
        return sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False), "?"
    import psycopg2

    conn = psycopg2.connect(url, options="-c search_path=catalog")
    conn.autocommit = True
    return conn, "%s"


def create_app(database_url: str, payload: dict[str, Any]) -> Sanic:
    app = Sanic("ceilings")
    app.config.update(ACCESS_LOG=False, KEEP_ALIVE_TIMEOUT=30, TOUCHUP=True)

    @app.before_server_start
    async def connect(app: Sanic) -> None:
        app.ctx.conn, mark = _connect(database_url)
        app.ctx.sql = ROW_SQL.format(mark=mark)

    @app.get("/json")
    async def bare(request: Request) -> HTTPResponse:
        return json(payload)

    @app.get("/row/<product_id:int>")
    async def row(request: Request, product_id: int) -> HTTPResponse:
        cur = request.app.ctx.conn.cursor()
        cur.execute(request.app.ctx.sql, (product_id,))
        found = cur.fetchone()
        cur.close()
        if found is None:
            return raw(b'{"title":"Not found"}', status=404, content_type="application/json")
        item = dict(zip(COLUMNS, found, strict=True))
        item["created_at"] = str(item["created_at"])
        return json(item)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database", required=True, help="the catalog's database URL")
    parser.add_argument("--payload", required=True, help="file holding the JSON that /json returns")
    args = parser.parse_args()
    with open(args.payload, encoding="utf-8") as f:
        payload = json_module.load(f)
    loader = AppLoader(factory=partial(create_app, args.database, payload))
    app = loader.load()
    single = args.workers == 1
    app.prepare(host="127.0.0.1", port=args.port, workers=args.workers, single_process=single, motd=False,
                access_log=False)
    if single:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()

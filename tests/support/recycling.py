"""Recycling a test's PostgreSQL copy for the next test: emptied back to the template's state, or refused.

Why: ``CREATE DATABASE ... TEMPLATE`` copies the whole template (about 11 MB, system catalogs included)
through the write-ahead log, and ``DROP DATABASE`` forces a checkpoint; with about 530 PostgreSQL tests a
run, that WAL — written, flushed, checkpointed, and replayed by the replica layout's standby — was a large
share of the suite's CPU. Emptying the tables a test wrote to is a few kilobytes of WAL.

A copy is recycled only when nothing but rows changed, once the schemas the template does not have are
dropped (a test-only module's, like ``tests/support/paysim_module``'s: a kernel with one migrates it into a
schema of its own, and the whole orders suite runs with one): its schema (every namespace, relation, column,
default, constraint, index, trigger, function, type, extension, privilege and database setting), the rows
of the migration ledgers and the prepared transactions must be exactly the template's; anything else
(a test that migrated an extra module, altered a table or rolled a migration back) and the copy is
dropped as before. The reset ends every connection still open to the copy, then in one transaction deletes
every row (constraint triggers off: ``session_replication_role = replica``) and puts every sequence back
where the template's is, so the next test sees what a fresh copy would show, ids included.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
from psycopg2 import sql

SYSTEM = "('pg_catalog', 'information_schema', 'pg_toast')"
_USER_NAMESPACES = (f"SELECT oid FROM pg_namespace WHERE nspname NOT IN {SYSTEM} "
                    "AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'")
#: Everything a test could change besides rows, as one text per object, hashed.
SCHEMA_FINGERPRINT = f"""
SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
    SELECT 'n ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace
        WHERE oid IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'c ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || c.relpersistence::text || ' '
           || coalesce(c.relacl::text, '') || ' ' || c.relrowsecurity::text
        FROM pg_class c WHERE c.relnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'a ' || a.attrelid::regclass::text || ' ' || a.attnum || ' ' || a.attname || ' '
           || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
           || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'k ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'i ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 't ' || tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger
        WHERE NOT tgisinternal
    UNION ALL
    SELECT 'r ' || ev_class::regclass::text || ' ' || rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
        WHERE c.relnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'p ' || oid::regprocedure::text FROM pg_proc WHERE pronamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'y ' || oid::regtype::text || ' ' || typtype::text FROM pg_type WHERE typnamespace IN ({_USER_NAMESPACES})
    UNION ALL
    SELECT 'e ' || extname || ' ' || extversion FROM pg_extension
    UNION ALL
    SELECT 'o ' || polrelid::regclass::text || ' ' || polname FROM pg_policy
    UNION ALL
    SELECT 'u ' || pubname FROM pg_publication
    UNION ALL
    SELECT 'l ' || count(*) FROM pg_largeobject_metadata
    UNION ALL
    SELECT 's ' || coalesce(array_to_string(setconfig, ','), '') FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL
    SELECT 'x ' || count(*) FROM pg_prepared_xacts WHERE database = current_database()
) AS objects(x)
"""
_NAMESPACES = f"SELECT nspname FROM pg_namespace WHERE oid IN ({_USER_NAMESPACES}) ORDER BY 1"
_TABLES = f"""
SELECT c.oid::regclass::text FROM pg_class c
WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p') ORDER BY 1
"""
_SEQUENCES = f"""
SELECT s.seqrelid::regclass::text, q.last_value, s.seqstart FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_sequences q ON q.schemaname = c.relnamespace::regnamespace::text
    AND q.sequencename = c.relname
WHERE c.relnamespace IN ({_USER_NAMESPACES}) ORDER BY 1
"""


def _is_ledger(table: str) -> bool:
    """The migration ledgers (``<module>_migrations``, ``<module>_kernel_migrations``): the template's rows."""
    return table.rpartition(".")[2].endswith("_migrations")


@dataclass(frozen=True)
class TemplateState:
    """What a recycled copy must match (read once from the template), and how to empty it."""

    fingerprint: str
    namespaces: tuple[str, ...]  # the template's schemas: a copy's others are dropped before the comparison
    ledgers_sql: str  # the ledgers' rows as text, in order
    ledgers: str
    empty_sql: str  # deletes every other table's rows, puts every sequence back

    @classmethod
    def read(cls, url: str) -> TemplateState:
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute(SCHEMA_FINGERPRINT)
                fingerprint = str(cur.fetchone()[0])  # type: ignore[index]
                cur.execute(_NAMESPACES)
                namespaces = tuple(name for (name,) in cur.fetchall())
                cur.execute(_TABLES)
                tables = [name for (name,) in cur.fetchall()]
                cur.execute(_SEQUENCES)
                sequences = cur.fetchall()
                ledgers_sql = " UNION ALL ".join(
                    f"SELECT {sql.Literal(name).as_string(cur)} || ' ' || t::text FROM {name} t"
                    for name in tables if _is_ledger(name)) or "SELECT ''"
                ledgers_sql = f"SELECT coalesce(string_agg(x, E'\\n' ORDER BY x), '') FROM ({ledgers_sql}) AS r(x)"
                cur.execute(ledgers_sql)
                ledgers = str(cur.fetchone()[0])  # type: ignore[index]
                deletes = "".join(f"DELETE FROM {name};" for name in tables if not _is_ledger(name))
                setvals = ", ".join(
                    f"setval({sql.Literal(name).as_string(cur)}, {last if last is not None else start}, "
                    f"{'true' if last is not None else 'false'})" for name, last, start in sequences)
            conn.rollback()
        finally:
            conn.close()
        restart = f"SELECT {setvals};" if setvals else ""
        empty_sql = "SET LOCAL session_replication_role = replica;" + deletes + restart
        return cls(fingerprint, namespaces, ledgers_sql, ledgers, empty_sql)


def end_connections(url: str, admin_url: str, attempts: int = 50) -> bool:
    """End every session on the copy (a server thread's pool a test left open); whether none is left."""
    name = url.rpartition("/")[2]
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for _ in range(attempts):
                cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                if cur.fetchone()[0] == 0:  # type: ignore[index]
                    return True
                cur.execute("SELECT pg_sleep(0.02)")
    finally:
        conn.close()
    return False


def reset(url: str, admin_url: str, template: TemplateState) -> bool:
    """Empty a used copy back to the template's state; False (nothing done) when more than rows changed."""
    if not end_connections(url, admin_url):
        return False
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            # Dropping a schema is a few catalog rows of WAL; dropping the copy forces a checkpoint, and the
            # next test then copies the template again. Rolled back (and the copy dropped) if it still differs.
            cur.execute(_NAMESPACES)
            for (name,) in cur.fetchall():
                if name not in template.namespaces:
                    cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
            cur.execute(SCHEMA_FINGERPRINT)
            if cur.fetchone()[0] != template.fingerprint:  # type: ignore[index]
                return False
            cur.execute(template.ledgers_sql)
            if cur.fetchone()[0] != template.ledgers:  # type: ignore[index]
                return False
            cur.execute(template.empty_sql)
        conn.commit()
        return True
    except psycopg2.Error:
        return False
    finally:
        conn.close()

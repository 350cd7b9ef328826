"""Every model matches the table its migrations made, column by column, on SQLite and PostgreSQL.

Models and migrations are written separately (a migration is a frozen copy of the model at the time),
so they can drift: a field added to a model without a migration, a migration that makes a column
nullable the model says is required, a type changed on one side only, a CHECK the database enforces that
the model does not state (or one the model states that nothing enforces). Comparing table names alone
misses all of that; this test compares each column's name, type family and nullability, and the table's
CHECK constraints, both ways.
"""

from __future__ import annotations

import re

from peewee import SQL, Database, Field, Model

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.database import is_postgres

#: Declared SQL types by family: what a model's field declares and what the database reports (SQLite
#: echoes the declared type; PostgreSQL's information_schema spells it out) must land in the same one.
FAMILIES = {
    "integer": ("integer", "int", "int4", "smallint", "serial"),
    "bigint": ("bigint", "int8", "bigserial"),
    "text": ("varchar", "character varying", "char", "character", "text"),
    "float": ("real", "float", "double", "double precision"),
    "decimal": ("decimal", "numeric"),
    "boolean": ("bool", "boolean"),
    "datetime": ("datetime", "timestamp", "timestamp without time zone", "timestamp with time zone"),
    "date": ("date",),
    "time": ("time", "time without time zone"),
    "binary": ("blob", "bytea"),
    "uuid": ("uuid",),
    "json": ("json", "jsonb"),
}
_FAMILY_OF = {name: family for family, names in FAMILIES.items() for name in names}


def family(declared: str) -> str:
    """``VARCHAR(255)`` -> ``text``; an unknown type stays itself, so a mismatch still shows."""
    base = re.sub(r"\(.*\)", "", declared).strip().lower()
    return _FAMILY_OF.get(base, base)


def declared_type(db: Database, field: Field) -> str:
    """The SQL type ``field`` declares on ``db`` (as ``CREATE TABLE`` would write it)."""
    field_type = field.field_type
    if field_type in ("AUTO", "BIGAUTO") and getattr(field, "rel_field", None) is None and not field.primary_key:
        field_type = "INT"  # an auto field that is not the key is a plain integer
    return str(db._field_types.get(field_type, field_type))


def sqlite_family(name: str) -> str:
    """SQLite stores every integer in up to 8 bytes: ``INTEGER`` and ``BIGINT`` are one family there."""
    return "integer" if name == "bigint" else name


def generated_columns(db: Database, table: str) -> set[str]:
    """Columns the database computes itself (PostgreSQL ``GENERATED ALWAYS AS``, e.g. the search
    module's ``tsvector``): no model writes them, so no model needs to declare them."""
    if not is_postgres(db):
        return set()
    cursor = db.execute_sql("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                            "AND table_schema = current_schema() AND is_generated = 'ALWAYS'", (table,))
    return {name for (name,) in cursor.fetchall()}


def declared_checks(model: type[Model]) -> list[str]:
    """The CHECK expressions ``model`` states: its fields' ``constraints`` and its ``Meta.constraints``."""
    nodes = [node for field in model._meta.sorted_fields for node in field.constraints or ()]
    nodes += list(model._meta.constraints or ())
    texts = [node.sql for node in nodes if isinstance(node, SQL) and node.sql.upper().startswith("CHECK")]
    return [inside_parentheses(text, text.index("(")) for text in texts]


def inside_parentheses(text: str, start: int) -> str:
    """What stands between the parenthesis at ``start`` and its match (nested ones included)."""
    depth = 0
    for at in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[at], 0)
        if depth == 0:
            return text[start + 1:at].strip()
    raise ValueError(f"unbalanced parentheses in {text!r}")


def sqlite_checks(db: Database, table: str) -> list[str]:
    """The CHECK expressions of a SQLite table, as its migrations wrote them (SQLite keeps that text)."""
    (sql,) = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return [inside_parentheses(sql, match.end() - 1) for match in re.finditer(r"\bCHECK\s*\(", sql, re.IGNORECASE)]


def postgres_checks(db: Database, relation: str) -> list[str]:
    """The CHECK constraints of a PostgreSQL relation, as PostgreSQL spells them out."""
    cursor = db.execute_sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                            "AND contype = 'c'", (f'"{relation}"',))
    return [definition for (definition,) in cursor.fetchall()]


def postgres_spelling(db: Database, table: str, expressions: list[str]) -> list[str]:
    """``expressions`` as PostgreSQL spells them once added to a copy of ``table``'s columns (so
    ``quantity BETWEEN 1 AND 99`` compares equal to the table's ``((quantity >= 1) AND (quantity <= 99))``);
    the copy is a temporary table, rolled back."""
    with db.atomic() as transaction:
        db.execute_sql(f'CREATE TEMPORARY TABLE "probe_checks" (LIKE "{table}")')
        for expression in expressions:
            db.execute_sql(f'ALTER TABLE "probe_checks" ADD CHECK ({expression})')
        spelled = postgres_checks(db, "probe_checks")
        transaction.rollback()
    return spelled


def _by_spacing(texts: list[str]) -> dict[str, str]:
    """Each text under its white space folded (how the two sides are compared), kept as written."""
    return {" ".join(text.split()): text for text in texts}


def check_mismatches(db: Database, model: type[Model]) -> list[str]:
    """The CHECK constraints the table has and the model does not state, and the other way round."""
    table = model._meta.table_name
    declared = declared_checks(model)
    if is_postgres(db):
        found, wanted = postgres_checks(db, table), postgres_spelling(db, table, declared)
    else:
        found, wanted = sqlite_checks(db, table), declared
    found_by, wanted_by = _by_spacing(found), _by_spacing(wanted)
    problems = [f"{table}: CHECK {found_by[key]} is in the table, not in the model"
                for key in sorted(found_by.keys() - wanted_by.keys())]
    problems += [f"{table}: CHECK {wanted_by[key]} is in the model, not in the table"
                 for key in sorted(wanted_by.keys() - found_by.keys())]
    return problems


def mismatches(db: Database, model: type[Model]) -> list[str]:
    """What differs between ``model`` and its table, one line per column."""
    table = model._meta.table_name
    postgres = is_postgres(db)
    found = {column.name: column for column in db.get_columns(table)}
    if not found:
        return [f"{table}: no such table"]
    wanted = {field.column_name: field for field in model._meta.sorted_fields}
    extra = set(found) - set(wanted) - generated_columns(db, table)
    problems = [f"{table}.{name}: in the table, not in the model" for name in sorted(extra)]
    problems += [f"{table}.{name}: in the model, not in the table" for name in sorted(set(wanted) - set(found))]
    for name in sorted(set(found) & set(wanted)):
        field, column = wanted[name], found[name]
        expected, actual = family(declared_type(db, field)), family(column.data_type)
        if not postgres:
            expected, actual = sqlite_family(expected), sqlite_family(actual)
        if expected != actual:
            problems.append(f"{table}.{name}: the model says {expected}, the table is {actual}")
        if bool(field.null) != bool(column.null) and not field.primary_key:
            problems.append(f"{table}.{name}: the model says null={field.null}, the table null={column.null}")
    return problems + check_mismatches(db, model)


def test_every_model_matches_its_migrated_table(kernel: Kernel) -> None:
    problems: list[str] = []
    checked = 0
    for module in kernel.registry:
        db = kernel.databases.get(module.name)
        models = [*module.models, module.events.Outbox, module.events.Inbox]
        with db.connection_context():
            for model in models:
                problems += [f"{module.name}: {line}" for line in mismatches(db, model)]
                checked += 1
    assert checked > 2 * len(list(kernel.registry))  # every module's own models, not only its event tables
    assert problems == []


def test_a_drifted_model_is_reported(kernel: Kernel) -> None:
    """The comparison catches each kind of drift (a model planted in the users module's database)."""
    from peewee import CharField, Check, IntegerField, TextField

    db = kernel.databases.get("users")
    with db.connection_context():
        db.execute_sql("CREATE TABLE drifted (id INTEGER PRIMARY KEY, name TEXT NOT NULL, gone TEXT, "
                       "n TEXT CHECK (n <> 'x'), kept INTEGER CHECK (kept >= 0))")

        class Drifted(Model):
            name = CharField(null=True, constraints=[Check("name <> ''")])  # NOT NULL and no CHECK in the table
            n = IntegerField()  # the table says TEXT, and checks it
            added = TextField()  # no such column
            kept = IntegerField(null=True, constraints=[Check("kept >= 0")])  # the same CHECK both sides

            class Meta:
                database = db
                table_name = "drifted"

        found = sorted(mismatches(db, Drifted))
    checks = [line for line in found if line.startswith("drifted: CHECK")]
    assert [line for line in found if line not in checks] == [
        "drifted.added: in the model, not in the table",
        "drifted.gone: in the table, not in the model",
        "drifted.n: the model says integer, the table is text",
        "drifted.n: the model says null=False, the table null=True",
        "drifted.name: the model says null=True, the table null=False",
    ]
    assert len(checks) == 2, checks
    assert any("n <> 'x'" in line and line.endswith("is in the table, not in the model") for line in checks)
    assert any("name <> ''" in line and line.endswith("is in the model, not in the table") for line in checks)

"""An entity-relationship drawing per module from its peewee models: tables, columns, keys, and the
foreign keys inside the module. A column that holds another module's id (``orders.user_id``) is drawn as
a dashed reference to that module's table: an id only, never a foreign key or a join."""

from __future__ import annotations

from ecommerce.devtools.drawings.dot import edge, h, header, node
from ecommerce.devtools.drawings.facts import Column, Facts, Table


def _marks(column: Column) -> str:
    marks = [m for m, on in (("PK", column.primary_key), ("FK", column.references is not None),
                             ("UQ", column.unique), ("IX", column.indexed and not column.references),
                             ("null", column.nullable)) if on]
    return " ".join(marks)


def _font(text: str) -> str:
    return f'<FONT COLOR="#616161">{text}</FONT>' if text else " "


def _label(table: Table) -> str:
    rows = [f'<TR><TD COLSPAN="3" BGCOLOR="#c5cae9"><B>{h(table.name)}</B></TD></TR>']
    for c in table.columns:
        name = f"<U>{h(c.name)}</U>" if c.primary_key else h(c.name)
        rows.append(f'<TR><TD ALIGN="LEFT" PORT="{h(c.name)}">{name}</TD><TD ALIGN="LEFT">{h(c.type)}</TD>'
                    f'<TD ALIGN="LEFT">{_font(_marks(c))}</TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


def foreign_target(column: Column, facts: Facts, module: str) -> tuple[str, str] | None:
    """(module, table) another module's id column points at, by the ``<thing>_id`` naming rule."""
    if column.references or not column.name.endswith("_id") or column.type not in ("Integer", "BigInteger"):
        return None
    stem = column.name.removesuffix("_id")
    for name in facts.modules:
        if name == module:
            continue
        for candidate in (stem, stem + "s", stem + "es"):
            if candidate in facts.modules[name].tables:
                return name, candidate
    return None


def source(facts: Facts, module: str) -> str:
    lines = header(f"er-{module}", label=f"{module}: tables (from the peewee models)")
    lines.append('  node [shape="plaintext"];')
    external: set[tuple[str, str]] = set()
    references: list[str] = []
    for table in facts.tables(module):
        lines.append(f'  "{table.name}" [label={_label(table)}];')
        for column in table.columns:
            if column.references:
                references.append(edge(table.name, column.references, tailport=column.name, dir="both",
                                       arrowtail="crow", arrowhead="tee"))
            target = foreign_target(column, facts, module)
            if target:
                external.add(target)
                references.append(edge(table.name, f"{target[0]}.{target[1]}", tailport=column.name,
                                       style="dashed", color="#9e9e9e", label="id only"))
    for owner, table_name in sorted(external):
        lines.append(node(f"{owner}.{table_name}", label=f"{owner}.{table_name}\n(another module)",
                          shape="box", style="dashed", color="#9e9e9e", fontcolor="#616161"))
    lines += references
    lines.append("}")
    return "\n".join(lines) + "\n"

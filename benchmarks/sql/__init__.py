"""SQL query-strategy benchmarks: the same question asked several ways, on SQLite and PostgreSQL.

``strategies/`` holds the variants (plain functions, imported by the smoke tests too), the ``test_*.py``
files time them with pytest-benchmark, ``python -m benchmarks.sql run|report`` runs everything and
writes the docs page.
"""

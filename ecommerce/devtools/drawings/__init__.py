"""``ecommerce diagrams``: every diagram of the docs, drawn from the code itself — the module registry,
the event subscriptions, the real import graph and the peewee models — so that none can go stale.

Each drawing is a pure function from facts to text (Graphviz ``.dot``, plus Mermaid for the sequence);
:mod:`.generate` writes the sources to ``diagrams/`` and renders them with Graphviz's ``dot``.
"""

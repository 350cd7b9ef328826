"""Loaded by every Python process started with this directory on ``PYTHONPATH`` (the app and its Sanic
workers): installs the commit tracer when ``ECOMMERCE_BENCH_COMMIT_TRACE`` is set."""

import os

if os.environ.get("ECOMMERCE_BENCH_COMMIT_TRACE"):
    from benchmarks.commits import tracer

    tracer.install()

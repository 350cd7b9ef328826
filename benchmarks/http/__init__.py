"""HTTP load benchmark: the shop's hot endpoints against two ceilings measured in the same run.

``python -m benchmarks.http`` starts the app, loads the demo data, drives each endpoint with wrk
after a warm-up and writes ``results/<backend>.json``; ``python -m benchmarks.http.report`` turns
the results into the tables and chart of ``docs/performance/http.md``.
"""

"""Commits per checkout on PostgreSQL: the request path (add to cart + ``POST /orders``) and the relay
delivering that checkout's events, counted with ``xact_commit`` and attributed with a peewee tracer."""

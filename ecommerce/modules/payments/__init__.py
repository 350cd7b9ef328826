"""Payments (issue 6): card tokenization, charges through a gateway adapter, refunds.

Only the integration-event contract exists so far (``events.py``), so that the orders module can
react to payment outcomes; the module itself is not registered yet.
"""

"""Stored request fingerprints reveal nothing about secrets in the body."""

from __future__ import annotations

import hashlib
import json

from ecommerce.kernel.idempotency import request_hash
from ecommerce.modules.payments.models import CARD_FIELDS, idempotency

KEY = b"k" * 32


def test_sensitive_fields_do_not_enter_the_fingerprint() -> None:
    assert idempotency.sensitive == CARD_FIELDS == {"cvc", "card_number"}  # payments names its card fields
    a = request_hash("POST", "/api/v1/payments", {"order_id": 1, "token_id": "tok_x", "cvc": "123"}, KEY, CARD_FIELDS)
    b = request_hash("POST", "/api/v1/payments", {"order_id": 1, "token_id": "tok_x", "cvc": "987"}, KEY, CARD_FIELDS)
    assert a == b
    assert a != request_hash("POST", "/api/v1/payments", {"order_id": 2, "token_id": "tok_x"}, KEY, CARD_FIELDS)


def test_the_kernel_names_no_field_a_module_did_not_name() -> None:
    body = {"order_id": 1, "cvc": "123"}
    assert request_hash("POST", "/p", body, KEY) != request_hash("POST", "/p", {**body, "cvc": "987"}, KEY)


def test_the_fingerprint_is_keyed() -> None:
    body = {"order_id": 1, "token_id": "tok_x"}
    assert request_hash("POST", "/p", body, KEY) != request_hash("POST", "/p", body, b"other-key" * 4)
    plain = hashlib.sha256(f"POST /p\n{json.dumps(body, sort_keys=True, separators=(',', ':'))}".encode())
    assert request_hash("POST", "/p", body, KEY) != plain.hexdigest()  # no unkeyed digest to brute-force

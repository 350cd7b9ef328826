"""Demo accounts for new hires (idempotent: running it twice changes nothing)."""

from __future__ import annotations

from ecommerce.kernel.errors import Conflict
from ecommerce.kernel.module import SeedContext
from ecommerce.modules.users import accounts

DEMO_ACCOUNTS = (
    ("admin@example.com", "admin-password-123", "admin"),
    ("customer@example.com", "customer-password-123", "customer"),
)


def seed(context: SeedContext) -> list[str]:
    created = []
    for email, password, role in DEMO_ACCOUNTS if context.demo else ():
        try:
            accounts.register(email, password, role=role)
            created.append(f"{role} {email} / {password}")
        except Conflict:
            continue
    return created

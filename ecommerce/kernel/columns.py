"""Column types the modules' models share, so a rule about how a kind of value is stored is said once.

Why: money was ``IntegerField`` (32 bits on PostgreSQL) in every module until a price past 21 million
major units failed with a 500; the fix made each module's money columns ``BIGINT`` in a migration of its
own. A model that says ``MoneyField`` carries that rule with it, and a new money column cannot be made
32-bit by habit.
"""

from __future__ import annotations

from peewee import BigIntegerField


class MoneyField(BigIntegerField):
    """An amount of money in minor units (cents): ``BIGINT`` on both databases (64 bits), while every
    amount the API accepts stays within ``kernel.limits.MAX_AMOUNT`` (2^53-1, which a JavaScript client
    reads exactly). The columns became ``BIGINT`` in catalog 0003, orders 0003, payments 0004, search 0003.

    Migrations keep their own frozen ``BigIntegerField`` copies: a migration must not change when a model's
    type does.
    """

"""The app's ``compact-lake`` job compacts the kernel's lake: closed days to Parquet, today left open."""

from __future__ import annotations

import datetime
import uuid

from ecommerce.kernel.bootstrap import Kernel
from ecommerce.kernel.clock import utcnow
from ecommerce.kernel.events.lake import LakeRecord
from ecommerce.modules.recommendations import compaction, module


def test_the_job_compacts_closed_days_of_the_kernels_lake(kernel: Kernel) -> None:
    assert "compact-lake" in [job.name for job in module.jobs] and kernel.lake is not None
    now = utcnow()
    for at in (now - datetime.timedelta(days=2), now):
        kernel.lake.append(LakeRecord(str(uuid.uuid4()), "orders.OrderPlaced", 1, at, "orders",
                                      {"order_id": 1, "user_id": 1, "total": 1, "currency": "USD", "lines": []}))
    # the kernel's start handed its lake to the module (its setup): no wiring here
    done = compaction.compact_closed_days()
    assert (done.files, done.events) == (1, 1)
    names = sorted(p.name for p in kernel.lake.events_dir.glob("date=*/*"))
    assert names == ["orders.OrderPlaced.v1.jsonl", "orders.OrderPlaced.v1.parquet"]
    assert compaction.compact_closed_days().files == 0

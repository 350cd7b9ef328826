"""The data lake on open formats: closed JSON-lines partitions compacted to Parquet, and DuckDB views over
both (ADR 0019). The append path the relay uses stays in ``ecommerce.kernel.events.lake``."""

from ecommerce.kernel.lake.compaction import Compacted, compact
from ecommerce.kernel.lake.schema import Schemas, schemas_of
from ecommerce.kernel.lake.sql import LakeQueryError, connect, query

__all__ = ["Compacted", "LakeQueryError", "Schemas", "compact", "connect", "query", "schemas_of"]

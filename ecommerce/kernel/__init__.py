"""Building blocks with no domain knowledge: module contract, settings, databases, events, errors, HTTP glue."""

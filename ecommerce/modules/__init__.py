"""Domain modules. Each one owns its tables and talks to the others only through ``api`` and ``events``."""

"""Developer tools that read or fill the whole code base: the ADR log, the diagrams, the docs site's
generated pages and the benchmark dataset generator. Like ``app.py`` they sit outside the modules (they
may read and write every module's models, each through its own database); no module and no kernel code
imports them."""

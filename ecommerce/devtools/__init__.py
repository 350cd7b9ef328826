"""Developer tools that read the whole code base: the ADR log, the diagrams and the docs site's generated
pages. Like ``app.py`` they sit outside the modules (they may read every module's models); no module and
no kernel code imports them."""

"""``python -m ecommerce`` is the same as the ``ecommerce`` command."""

from ecommerce.cli import main

raise SystemExit(main())

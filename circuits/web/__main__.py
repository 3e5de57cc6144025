"""``python -m circuits.web``: see :mod:`circuits.web.main`."""

from .main import main

raise SystemExit(main())

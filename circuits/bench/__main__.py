"""``python -m circuits.bench``: see circuits.bench.runner."""

import sys

from .runner import main

sys.exit(main())

"""``python -m reports``: the ``overtensor`` command line."""

import sys

from .cli import main

sys.exit(main())

"""``python -m examples.sample_controller``: see :mod:`.main`."""

import sys

from .main import main

sys.exit(main())

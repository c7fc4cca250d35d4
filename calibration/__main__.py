"""``python -m calibration``: see :mod:`calibration.cli`."""

from __future__ import annotations

import sys

from calibration.cli import main

sys.exit(main())

"""``python -m installation``: run the live show."""

from __future__ import annotations

from installation.cli import main

raise SystemExit(main())

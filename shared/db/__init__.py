"""The state's store: tables (``models``, ``accounts``), sessions and migrations.

Both table modules are imported here so that ``Base.metadata`` always holds every table (the
migrations are compared with it).
"""

from shared.db import accounts, models

__all__ = ["accounts", "models"]

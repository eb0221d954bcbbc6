"""The state's store: tables (``models``, ``accounts``, ``directory``), sessions and migrations.

Every table module is imported here so that ``Base.metadata`` always holds every table (the
migrations are compared with it).
"""

from shared.db import accounts, directory, models

__all__ = ["accounts", "directory", "models"]

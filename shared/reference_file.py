"""The error of a reference file edcs cannot load (institutions, collection windows).

Its own module, free of the database, so that reading a windows file (``edcs validate``,
``edcs sample``) does not import SQLAlchemy.
"""

from __future__ import annotations


class ReferenceFileError(ValueError):
    """The reference file has problems; the message lists every one."""

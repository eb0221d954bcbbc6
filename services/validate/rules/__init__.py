"""Rule kinds: the closed vocabulary that catalog data is written in.

``field.py`` turns a FieldSpec into one check function; ``record.py`` turns a RecordRule into one,
by the compiler registered for the rule's kind (``shared/catalog/rule_kinds.py``) in
``registry.py``: ``record.py`` holds the compilers of conditions and orders, ``measures.py``
those of ages, year windows and numbers. A rule of a
kind not in ``RULE_KINDS`` is a catalog load error, never an ``eval``.
"""

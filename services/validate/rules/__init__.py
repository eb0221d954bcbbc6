"""Rule kinds: the closed vocabulary that catalog data is written in.

``field.py`` turns a FieldSpec into one check function; ``record.py`` turns a RecordRule into one,
by the compiler registered for the rule's kind (``shared/catalog/rule_kinds.py``). A rule of a
kind not in ``RULE_KINDS`` is a catalog load error, never an ``eval``.
"""

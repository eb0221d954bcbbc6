"""Rule kinds: the closed vocabulary that catalog data is written in.

``field.py`` turns a FieldSpec into one check function; ``record.py`` turns a RecordRule into one.
A rule kind not listed in ``RECORD_RULE_KINDS`` is a catalog load error, never an ``eval``.
"""

"""SSID matching (design.md §5): normalisation, the levels as data, blocking indexes, decisions.

Pure code: no Kafka, no database and no import from ``services``. The pipeline backs candidate
lookup with its own store through :class:`shared.matching.index.IdentityLookup`; the offline
``edcs match`` command uses the in-memory :class:`shared.matching.index.MemoryIndex`.
"""

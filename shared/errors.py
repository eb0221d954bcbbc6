"""Operational failures (exceptions). Data problems are never exceptions: see shared.issues."""


class WorkerError(Exception):
    """Base of every failure a worker can meet."""


class PoisonMessage(WorkerError):  # noqa: N818 - the established name (arroyo's InvalidMessage)
    """An event that cannot be decoded or does not match its schema: goes to the DLQ."""


class TransientError(WorkerError):
    """A passing failure (database lock, SMTP hiccup): retried with a bound."""


class ConfigError(WorkerError):
    """Settings or catalog are wrong: the process exits with status 2."""

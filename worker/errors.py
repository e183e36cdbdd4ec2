"""One exception root for the worker; the queue code maps each kind to retry or dead-letter."""


class WorkerError(Exception):
    """Root of every error the worker raises on purpose."""

    retryable: bool = False


class PayloadError(WorkerError):
    """The stored payload cannot be understood (dead-lettered: retrying cannot help)."""


class ConfigurationError(WorkerError):
    """A tenant's configuration is missing or rejected (credentials, API key, unknown property)."""


class TransientError(WorkerError):
    """A passing failure (timeout, 5xx, 429): retried with backoff."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

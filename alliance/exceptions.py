"""The one base of every domain error: interfaces turn it into a clear message, never a 500."""


class ApplicationError(Exception):
    """A refused state change, with a message for people and structured details for programs."""

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

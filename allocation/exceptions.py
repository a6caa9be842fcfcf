"""Domain errors of the allocation app. Each is an ApplicationError: a clear 400, never a 500."""
from alliance.exceptions import ApplicationError


class NotPermitted(ApplicationError):
    """The acting person's role or organisation does not allow this change."""


class InvalidTransition(ApplicationError):
    """The object is not in a state that allows this change (e.g. editing a submitted request)."""


class RoundNotReady(ApplicationError):
    """The round cannot be solved yet: something the engine needs is missing."""

"""Errors of the audit trail."""
from alliance.exceptions import ApplicationError


class AuditOutsideTransaction(ApplicationError):
    """``audit_record`` was called outside the transaction of the change it records."""


class AuditChainBusy(ApplicationError):
    """Another writer moved the chain's head while an entry was being written (refused, never forked)."""

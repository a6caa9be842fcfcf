"""Fixtures of the audit tests: tampering with the stored chain as an attacker with database access would."""
import pytest
from django.core.cache import cache
from django.db import connection


@pytest.fixture(autouse=True)
def fresh_cache():
    """The public check reuses a recent verification; each test starts without one."""
    cache.clear()
    yield
    cache.clear()


class Tamper:
    """Raw SQL on the audit table, past the ORM's refusal and (on PostgreSQL) the append-only trigger."""

    table = "audit_auditentry"

    def _run(self, sql, params=()):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER audit_entry_append_only")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER audit_entry_append_only")

    def edit(self, at: int, **fields):
        """Set ``fields`` on the entry whose sequence number is ``at``."""
        assignments = ", ".join(f"{name} = %s" for name in fields)
        self._run(f"UPDATE {self.table} SET {assignments} WHERE sequence = %s", [*fields.values(), at])  # noqa: S608

    def delete(self, sequence: int):
        self._run(f"DELETE FROM {self.table} WHERE sequence = %s", [sequence])  # noqa: S608


@pytest.fixture
def tamper(db):
    return Tamper()

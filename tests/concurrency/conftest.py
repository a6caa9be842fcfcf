"""Concurrency tests: several threads, each with its own PostgreSQL connection, start the same change
together (a barrier releases them at once) and the database must end in a state one of them alone could
have produced.

They need PostgreSQL (row locks and real concurrent transactions; SQLite serialises every writer). Outside
CI they skip, with the reason, on another database; in CI (``CI=true``) that is a failure.
"""
import threading
from dataclasses import dataclass


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_together(actions, timeout: float = 60.0) -> list[Outcome]:
    """Run each callable in its own thread with its own database connection, all released at once.

    Every thread opens its connection before the barrier, so the changes race inside the database rather
    than in connection set-up. Returns one ``Outcome`` per action, in order."""
    from django.db import connection

    barrier = threading.Barrier(len(actions))
    outcomes = [Outcome() for _ in actions]

    def work(index, action):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            outcomes[index].value = action()
        except BaseException as error:  # noqa: BLE001 - reported to the test, which asserts on it
            outcomes[index].error = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, action), daemon=True) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not stuck, f"threads {stuck} did not finish within {timeout} s (a lock never released?)"
    return outcomes


def unexpected(outcomes, *allowed: type[BaseException]) -> list[BaseException]:
    """The errors that are not one of the ``allowed`` refusals: a deadlock, an IntegrityError, a crash."""
    return [o.error for o in outcomes if o.error is not None and not isinstance(o.error, allowed)]

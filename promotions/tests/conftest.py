"""Helpers of the promotions tests: real concurrent transactions, each thread on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_concurrently(count: int, work: Callable[[int], Any], *, timeout: float = 30) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier; each thread uses its own
    database connection (Django's are per thread) and closes it. Returns each result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:  # handed back to the test, which asserts on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock or lock wait)"
    return results

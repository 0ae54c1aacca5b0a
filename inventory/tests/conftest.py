"""Helpers of the inventory tests: real concurrent transactions, each thread on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection


def run_concurrently(count: int, work: Callable[[int], Any], *, timeout: float = 30) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier; each thread opens its own
    database connection (Django's connections are per thread) and closes it at the end. Returns each
    thread's result, or the exception it raised."""
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


class Sampler:
    """Samples a number in a thread of its own (its own connection) while a race runs; keeps the lowest."""

    def __init__(self, sample: Callable[[], int]) -> None:
        self.sample = sample
        self.lowest: int | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                value = self.sample()
                self.samples += 1
                self.lowest = value if self.lowest is None else min(self.lowest, value)
        finally:
            connection.close()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def sampler():
    return Sampler

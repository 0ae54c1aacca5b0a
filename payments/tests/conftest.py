"""Helpers of the payments tests: real concurrent threads (each on its own database connection), a
stepped clock for the circuit breaker, and the payments settings the tests start from."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from payments import breaker


@pytest.fixture(autouse=True)
def _payments_settings(settings):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.PAYMENT_PAYOUT_GATEWAY = "sandbox"
    settings.PAYMENT_RECONCILE_AFTER = 0
    settings.PAYMENT_GATEWAY_TIMEOUT = 10.0
    settings.PAYMENT_BREAKER_WINDOW = 60
    settings.PAYMENT_BREAKER_MIN_CALLS = 4
    settings.PAYMENT_BREAKER_ERROR_RATE = 0.5
    settings.PAYMENT_BREAKER_COOLDOWN = 30
    settings.STRIPE_SECRET_KEY = ""
    settings.ADYEN_API_KEY = ""


class SteppedClock:
    """The breaker's clock, moved by the test instead of waiting."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> SteppedClock:
    stepped = SteppedClock()
    monkeypatch.setattr(breaker, "clock", stepped)
    return stepped


def run_concurrently(count: int, work: Callable[[int], Any], *, timeout: float = 60) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together by a barrier, each on its own database
    connection; returns each result or the exception raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results

"""Celery entry points of the sellers app."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def sellers_payouts_run_task() -> int:
    """Beat, every two weeks: pay every seller its balance (services.payouts_run). Safe to run twice."""
    payouts = services.payouts_run()
    logger.info("payouts run: %d payout(s) made or settled", len(payouts))
    return len(payouts)


@shared_task
def sellers_payouts_settle_pending_task() -> int:
    """Beat, hourly: learn the outcome of payouts whose transfer had no answer yet."""
    return len(services.payouts_settle_pending())

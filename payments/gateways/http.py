"""Classifying a failed HTTP call of a gateway SDK (both SDKs here use ``requests``): was the request
sent? A connection that was refused or never opened sent nothing, so failing over is safe
(``GatewayError``); a read timeout or a connection dropped mid-answer may have reached the gateway
(``GatewayTimeout``: the outcome is unknown)."""

from __future__ import annotations

import requests
import urllib3.exceptions

from payments.redaction import redact

from .base import GatewayError, GatewayTimeout


def _never_sent(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.ReadTimeout):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)
    return False


def classify(exc: BaseException, gateway: str) -> GatewayError | GatewayTimeout:
    """The gateway exception for a transport error ``exc`` of the ``requests`` library."""
    if _never_sent(exc):
        return GatewayError(f"{gateway}: could not connect ({type(exc).__name__})")
    return GatewayTimeout(f"{gateway}: no answer ({type(exc).__name__}: {redact(exc, 200)})")

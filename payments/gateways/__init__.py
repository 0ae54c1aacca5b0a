"""Gateway adapters by name: ``sandbox`` (built in), ``stripe`` and ``adyen`` (their SDKs, configured
from settings). Private to the payments app; payments.services is their only user."""

from __future__ import annotations

from .base import Gateway, GatewayNotConfigured

GATEWAY_NAMES = ("sandbox", "stripe", "adyen")


def gateway_get(name: str) -> Gateway:
    """A ready adapter for ``name``; ``GatewayNotConfigured`` when it is unknown or lacks credentials."""
    if name == "sandbox":
        from .sandbox import SandboxGateway

        return SandboxGateway()
    if name == "stripe":
        from .stripe import StripeGateway

        return StripeGateway.from_settings()
    if name == "adyen":
        from .adyen import AdyenGateway

        return AdyenGateway.from_settings()
    raise GatewayNotConfigured(f"unknown payment gateway {name!r}; known: {', '.join(GATEWAY_NAMES)}")

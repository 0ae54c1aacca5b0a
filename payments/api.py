"""The payments API: gateways' webhooks. Buyers pay through the checkout (orders), never here."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services
from payments.gateways.stripe import WebhookInvalid, webhook_verify
from shop.core.api import error_body

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe signs the body instead; no cookie, no session
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe's events: the signature is verified by the SDK against STRIPE_WEBHOOK_SECRET (400 when it
    does not verify); an event id seen before is acknowledged (200) and ignored."""
    try:
        event = webhook_verify(
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
            secret=settings.STRIPE_WEBHOOK_SECRET,
        )
    except WebhookInvalid as exc:
        logger.warning("payments: Stripe webhook refused: %s", exc)
        return JsonResponse(error_body("invalid", str(exc)), status=400)
    first_time = services.webhook_event_apply(gateway="stripe", event=event)
    return JsonResponse({"received": True, "duplicate": not first_time})

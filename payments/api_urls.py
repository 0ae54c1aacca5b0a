"""The payments API, included under /api/v1/ (namespace "api")."""

from django.urls import path

from . import api

urlpatterns = [
    path("payments/webhooks/stripe/", api.stripe_webhook, name="payments-webhook-stripe"),
]

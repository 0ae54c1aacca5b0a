"""The onboarding page: a signed-in user applies to sell, then sees where the application stands."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from . import selectors, services
from .forms import SellerApplicationForm


def support_email() -> str:
    # SUPPORT_EMAIL when the operator sets one, else the address the shop's mail comes from.
    configured = getattr(settings, "SUPPORT_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
    return parseaddr(configured)[1]


@never_cache
@login_required
def onboarding(request: HttpRequest) -> HttpResponse:
    seller = selectors.seller_for_user(user=request.user)
    context = {"seller": seller, "support_email": support_email()}
    if seller is not None:
        # one application per user: the page shows where it stands instead of the form
        return render(request, "sellers/onboarding.html", context)

    form = SellerApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            seller = services.seller_apply(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        except services.AlreadyApplied:
            return redirect("sellers:onboarding")  # a double submit: the page shows the application
        else:
            messages.success(request, f"Thank you! We received the application for {seller.store_name}.")
            return redirect("sellers:onboarding")
    return render(request, "sellers/onboarding.html", {**context, "form": form})

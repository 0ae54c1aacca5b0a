"""The account pages: sign-up, log-in, log-out, password reset, email verification, addresses."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from shop.core import ratelimit

from . import selectors, services
from .forms import AccountSetPasswordForm, AddressForm, LoginForm, SignupForm
from .models import Address, normalize_email

TOO_MANY_SIGNUPS = "Too many sign-ups from your network. Wait a while and try again."
TOO_MANY_RESETS = "Too many reset requests. Wait a while and try again."
TOO_MANY_VERIFICATION_MAILS = "We have sent several links already. Wait a while before asking for another."


def _next_url(request: HttpRequest) -> str:
    """The ?next= (or posted next) address when it stays on this site, else an empty string:
    an open redirect would let a phishing link borrow the shop's log-in page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


# --- sign-up, log-in, log-out -------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:account")
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if ratelimit.hit(request, "register", key="ip"):
            form.is_valid()
            form.add_error(None, TOO_MANY_SIGNUPS)
            status = 429
        elif form.is_valid():
            try:
                user = services.user_register(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                auth_login(request, user)
                messages.success(request, f"Welcome! We sent a link to {user.email} to confirm the address.")
                return redirect(_next_url(request) or "accounts:account")
    return render(request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status)


@never_cache
@sensitive_post_parameters("password")
def login_page(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_authenticate(
                request=request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except services.LoginBlocked as exc:
            form.add_error(None, str(exc))
            status = 429
        except services.InvalidCredentials as exc:
            form.add_error(None, str(exc))
        else:
            auth_login(request, user)
            return redirect(_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=status)


def logout_page(request: HttpRequest) -> HttpResponse:
    """Log-out changes state, so only a POST (with its CSRF token) does it; a GET asks first,
    so that an image tag on another site cannot log buyers out."""
    if request.method == "POST":
        auth_logout(request)
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/logout.html")


# --- account and email verification -------------------------------------------------------------


@login_required
def account(request: HttpRequest) -> HttpResponse:
    default_address = selectors.address_default_for_user(user=request.user)
    return render(request, "accounts/account.html", {"default_address": default_address})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = services.email_verify(token=token)
    except services.EmailVerificationExpired:
        context = {"verified": False, "reason": "expired"}
        return render(request, "accounts/verify_email.html", context, status=400)
    except services.EmailVerificationError:
        return render(request, "accounts/verify_email.html", {"verified": False, "reason": "invalid"}, status=400)
    return render(request, "accounts/verify_email.html", {"verified": True, "verified_email": user.email})


@require_POST
@login_required
def resend_verification(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.info(request, "Your email address is already confirmed.")
    elif ratelimit.hit(request, "email_verification", key="user"):
        messages.error(request, TOO_MANY_VERIFICATION_MAILS)
    else:
        services.email_verification_send(user=request.user)
        messages.success(request, f"We sent a new link to {request.user.email}.")
    return redirect("accounts:account")


# --- password reset (Django's views, our templates and limits) ----------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset_email.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = normalize_email(form.cleaned_data["email"])
        # Both counted on every request: per client against scripted floods, per address so that
        # nobody can fill a buyer's inbox from many machines.
        limited_client = ratelimit.hit(self.request, "password_reset", key="ip")
        limited_address = ratelimit.hit(self.request, "password_reset", key=f"email:{email}")
        if limited_client or limited_address:
            form.add_error(None, TOO_MANY_RESETS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        self.extra_email_context = {"site_name": settings.SITE_NAME}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = AccountSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- addresses ----------------------------------------------------------------------------------


def _own_address(request: HttpRequest, address_id: int) -> Address:
    address = selectors.address_get_for_user(user=request.user, address_id=address_id)
    if address is None:
        raise Http404("No such address.")
    return address


@login_required
def addresses(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/addresses.html", {"addresses": selectors.address_list_for_user(user=request.user)})


@login_required
def address_add(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Address added.")
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": None})


@login_required
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    address = _own_address(request, address_id)
    form = AddressForm(request.POST or None, initial=AddressForm.initial_for(address))
    if request.method == "POST" and form.is_valid():
        try:
            services.address_update(address=address, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Address saved.")
            return redirect("accounts:addresses")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    address = _own_address(request, address_id)
    if request.method == "POST":
        services.address_delete(address=address)
        messages.success(request, "Address deleted.")
        return redirect("accounts:addresses")
    return render(request, "accounts/address_confirm_delete.html", {"address": address})


@require_POST
@login_required
def address_make_default(request: HttpRequest, address_id: int) -> HttpResponse:
    services.address_make_default(address=_own_address(request, address_id))
    messages.success(request, "Default address changed.")
    return redirect(reverse("accounts:addresses"))

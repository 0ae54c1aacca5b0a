import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Address, User
from accounts.tests.factories import PASSWORD, AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase 42"
ONE_MEGABYTE = "x" * (1024 * 1024)


def _field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- sign-up --------------------------------------------------------------------------------------


def test_signup_page_shows_the_form(client):
    response = client.get(reverse("accounts:signup"))

    assert response.status_code == 200
    assert b'class="form"' in response.content
    assert b'name="email"' in response.content


def test_signup_creates_a_logged_in_account_and_mails_a_verification_link(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:signup"), {"email": "Ada@Example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")
    user = User.objects.get(email="ada@example.com")
    assert user.password.startswith("argon2")
    assert client.get(reverse("accounts:account")).context["user"] == user
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]


def test_signup_with_a_taken_email_shows_the_error_next_to_the_email_field(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("accounts:signup"), {"email": "ADA@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 200
    assert _field_errors(response, "email")
    assert b'class="field-error"' in response.content
    assert User.objects.count() == 1


def test_signup_with_a_weak_password_shows_the_error_next_to_the_password_field(client):
    response = client.post(reverse("accounts:signup"), {"email": "ada@example.com", "password": "12345678"})

    assert response.status_code == 200
    assert _field_errors(response, "password")
    assert not User.objects.exists()


def test_signup_with_a_one_megabyte_password_is_refused_without_hashing_it(client):
    response = client.post(reverse("accounts:signup"), {"email": "ada@example.com", "password": ONE_MEGABYTE})

    assert response.status_code == 200
    assert _field_errors(response, "password")
    assert not User.objects.exists()


def test_signup_is_limited_per_client(client, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"register": "2/h"}
    for n in range(2):
        Client().post(reverse("accounts:signup"), {"email": f"user{n}@example.com", "password": STRONG_PASSWORD})

    response = client.post(reverse("accounts:signup"), {"email": "late@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == 429
    assert not User.objects.filter(email="late@example.com").exists()


# --- log-in ---------------------------------------------------------------------------------------


def test_login_with_the_right_password_goes_to_the_safe_next_page(client, user):
    response = client.post(
        reverse("accounts:login"), {"email": user.email.upper(), "password": PASSWORD, "next": "/accounts/addresses/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/addresses/"
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_login_ignores_a_next_page_on_another_site(client, user, next_url):
    response = client.post(reverse("accounts:login") + "?next=" + next_url, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("storefront:home")


def test_login_page_keeps_next_in_the_form(client):
    response = client.get(reverse("accounts:login"), {"next": "/accounts/addresses/"})

    assert b'name="next" value="/accounts/addresses/"' in response.content


def test_login_with_a_wrong_password_shows_an_error_and_logs_nobody_in(client, user):
    response = client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_login_form_with_bad_input_shows_errors_not_a_server_error(client):
    response = client.post(reverse("accounts:login"), {"email": "not an email", "password": ONE_MEGABYTE})

    assert response.status_code == 200
    assert _field_errors(response, "email")
    assert _field_errors(response, "password")


def test_login_is_refused_after_too_many_failures_even_with_the_right_password(client, user, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login": "3/h"}
    for _ in range(3):
        client.post(reverse("accounts:login"), {"email": user.email, "password": "wrong"})

    response = client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed attempts. Wait a minute and try again." in response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


# --- log-out --------------------------------------------------------------------------------------


def test_logout_get_asks_for_confirmation_and_keeps_the_session(client, user):
    client.force_login(user)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert "_auth_user_id" in client.session


def test_logout_post_ends_the_session(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_logout_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    forged = client.post(reverse("accounts:logout"))
    assert forged.status_code == 403
    assert "_auth_user_id" in client.session

    page = client.get(reverse("accounts:logout"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    response = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# --- password reset -------------------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(client, user, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    new_password = "another long passphrase 77"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})

    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert user.password.startswith("argon2")


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_password_reset_link_with_a_wrong_token_says_it_is_not_valid(client, user):
    response = client.get(
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"}), follow=True
    )

    assert response.status_code == 200
    assert not response.context["validlink"]


def test_password_reset_requests_are_limited(client, user, settings, mailoutbox):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"password_reset": "2/h"}
    for _ in range(2):
        client.post(reverse("accounts:password_reset"), {"email": user.email})

    response = client.post(reverse("accounts:password_reset"), {"email": user.email})

    assert response.status_code == 429
    assert len(mailoutbox) == 2


# --- email verification ---------------------------------------------------------------------------


def test_verification_link_confirms_the_email(client, user):
    token = services.email_verification_token(user=user)

    response = client.get(reverse("accounts:verify_email", kwargs={"token": token}))

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified


def test_tampered_verification_link_is_a_clear_400(client, user):
    token = services.email_verification_token(user=user)

    response = client.get(reverse("accounts:verify_email", kwargs={"token": token[:-2] + "zz"}))

    assert response.status_code == 400
    assert response.context["reason"] == "invalid"
    user.refresh_from_db()
    assert not user.email_verified


def test_resend_verification_mails_a_new_link(client, user, mailoutbox):
    client.force_login(user)

    response = client.post(reverse("accounts:resend_verification"))

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/verify/" in mailoutbox[0].body


def test_resend_verification_only_answers_post(client, user, mailoutbox):
    client.force_login(user)

    assert client.get(reverse("accounts:resend_verification")).status_code == 405
    assert mailoutbox == []


# --- account and addresses ------------------------------------------------------------------------


def test_account_page_needs_a_login(client):
    response = client.get(reverse("accounts:account"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_account_page_shows_the_email_and_whether_it_is_verified(client, user):
    client.force_login(user)

    response = client.get(reverse("accounts:account"))

    assert response.status_code == 200
    assert user.email in response.content.decode()
    assert "not confirmed yet" in response.content.decode()


def test_addresses_page_lists_only_the_buyers_addresses(client, user):
    mine = AddressFactory(user=user, line1="1 My Street")
    AddressFactory(line1="9 Their Street")
    client.force_login(user)

    response = client.get(reverse("accounts:addresses"))

    assert list(response.context["addresses"]) == [mine]
    assert "9 Their Street" not in response.content.decode()


def test_adding_an_address(client, user):
    client.force_login(user)
    data = {"full_name": "Ada", "line1": "1 Market St", "city": "Paris", "postal_code": "75001", "country": "fr"}

    response = client.post(reverse("accounts:address_add"), data)

    assert response.status_code == 302
    address = Address.objects.get(user=user)
    assert (address.country, address.is_default) == ("FR", True)


def test_adding_an_address_with_a_bad_country_shows_the_error_next_to_the_field(client, user):
    client.force_login(user)
    data = {"full_name": "Ada", "line1": "1 Market St", "city": "Paris", "postal_code": "75001", "country": "F1"}

    response = client.post(reverse("accounts:address_add"), data)

    assert response.status_code == 200
    assert _field_errors(response, "country")
    assert not Address.objects.exists()


def test_editing_an_address(client, user):
    address = AddressFactory(user=user)
    client.force_login(user)
    form = client.get(reverse("accounts:address_edit", args=[address.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None} | {"city": "Hamburg"}

    response = client.post(reverse("accounts:address_edit", args=[address.pk]), data)

    assert response.status_code == 302
    address.refresh_from_db()
    assert address.city == "Hamburg"


def test_deleting_an_address_asks_first(client, user):
    address = AddressFactory(user=user)
    client.force_login(user)

    assert client.get(reverse("accounts:address_delete", args=[address.pk])).status_code == 200
    assert Address.objects.filter(pk=address.pk).exists()
    response = client.post(reverse("accounts:address_delete", args=[address.pk]))

    assert response.status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_making_an_address_the_default(client, user):
    first = AddressFactory(user=user, is_default=True)
    second = AddressFactory(user=user)
    client.force_login(user)

    client.post(reverse("accounts:address_make_default", args=[second.pk]))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


@pytest.mark.parametrize("name", ["address_edit", "address_delete", "address_make_default"])
def test_another_buyers_address_is_not_found(client, user, name):
    theirs = AddressFactory()
    client.force_login(user)

    assert client.get(reverse(f"accounts:{name}", args=[theirs.pk])).status_code in {404, 405}
    assert client.post(reverse(f"accounts:{name}", args=[theirs.pk]), {"city": "X"}).status_code == 404
    assert Address.objects.filter(pk=theirs.pk, is_default=theirs.is_default).exists()

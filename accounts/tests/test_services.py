import time
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from accounts import services
from accounts.models import Address
from accounts.tests.factories import PASSWORD, AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a long and unusual passphrase 42"


def _address_fields(**overrides):
    fields = {"full_name": "Ada Buyer", "line1": "1 Market Street", "city": "Berlin", "postal_code": "10115"}
    fields["country"] = "DE"
    return fields | overrides


# --- registration ---------------------------------------------------------------------------------


def test_register_stores_the_password_with_argon2_and_the_email_lower_cased():
    user = services.user_register(email="  Ada@Example.COM ", password=STRONG_PASSWORD)

    assert user.email == "ada@example.com"
    assert user.password.startswith("argon2")
    assert user.check_password(STRONG_PASSWORD)
    assert not user.email_verified


def test_register_refuses_an_email_taken_in_another_case():
    UserFactory(email="ada@example.com")

    with pytest.raises(ValidationError) as caught:
        services.user_register(email="ADA@example.com", password=STRONG_PASSWORD)

    assert "email" in caught.value.message_dict


def test_register_refuses_a_weak_password():
    with pytest.raises(ValidationError) as caught:
        services.user_register(email="ada@example.com", password="password")

    assert "password" in caught.value.message_dict


def test_register_mails_a_verification_link_after_commit(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_register(email="ada@example.com", password=STRONG_PASSWORD)
        assert mailoutbox == []  # nothing leaves before the account is committed

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert "/accounts/verify/" in mailoutbox[0].body


# --- log-in checks --------------------------------------------------------------------------------


def _request():
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="198.51.100.7")


def test_authenticate_accepts_the_email_in_any_case(user):
    assert services.user_authenticate(request=_request(), email=user.email.upper(), password=PASSWORD) == user


def test_authenticate_refuses_even_the_right_password_once_failures_used_up_the_limit(user, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login": "3/h"}
    for _ in range(3):
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(request=_request(), email=user.email, password="wrong")

    with pytest.raises(services.LoginBlocked):
        services.user_authenticate(request=_request(), email=user.email, password=PASSWORD)


def test_authenticate_does_not_count_successes(user, settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login": "3/h"}
    for _ in range(4):
        assert services.user_authenticate(request=_request(), email=user.email, password=PASSWORD) == user


def test_authenticate_limits_failures_per_client_across_accounts(settings):
    settings.RATE_LIMITS = settings.RATE_LIMITS | {"login_ip": "3/h"}
    victim = UserFactory()
    for n in range(3):
        with pytest.raises(services.InvalidCredentials):
            services.user_authenticate(request=_request(), email=f"guess{n}@example.com", password="wrong")

    with pytest.raises(services.LoginBlocked):
        services.user_authenticate(request=_request(), email=victim.email, password=PASSWORD)


def test_authenticate_refuses_an_inactive_user():
    inactive = UserFactory(is_active=False)
    with pytest.raises(services.InvalidCredentials):
        services.user_authenticate(request=_request(), email=inactive.email, password=PASSWORD)


# --- email verification ---------------------------------------------------------------------------


def test_verification_token_marks_the_email_verified(user):
    token = services.email_verification_token(user=user)

    assert services.email_verify(token=token) == user
    user.refresh_from_db()
    assert user.email_verified


def test_verification_link_followed_twice_keeps_the_first_time(user):
    token = services.email_verification_token(user=user)
    services.email_verify(token=token)
    user.refresh_from_db()
    first = user.email_verified_at

    services.email_verify(token=token)
    user.refresh_from_db()
    assert user.email_verified_at == first


def test_verification_token_older_than_the_max_age_is_expired(user, settings):
    too_old = settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds() + 60
    with mock.patch("time.time", return_value=time.time() - too_old):
        token = services.email_verification_token(user=user)

    with pytest.raises(services.EmailVerificationExpired):
        services.email_verify(token=token)
    user.refresh_from_db()
    assert not user.email_verified


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="signature changed"),
        pytest.param(lambda token: "x" + token, id="payload changed"),
        pytest.param(lambda token: "not-a-token", id="garbage"),
        pytest.param(lambda token: "", id="empty"),
    ],
)
def test_verification_token_tampered_with_is_refused(user, tamper):
    token = services.email_verification_token(user=user)

    with pytest.raises(services.EmailVerificationError):
        services.email_verify(token=tamper(token))
    user.refresh_from_db()
    assert not user.email_verified


def test_verification_token_stops_working_once_the_email_changed(user):
    token = services.email_verification_token(user=user)
    user.email = "new-address@example.com"
    user.save()

    with pytest.raises(services.EmailVerificationError):
        services.email_verify(token=token)


# --- addresses ------------------------------------------------------------------------------------


def test_first_address_becomes_the_default(user):
    address = services.address_create(user=user, **_address_fields())

    assert address.is_default


def test_new_default_address_takes_the_default_from_the_old_one(user):
    first = services.address_create(user=user, **_address_fields())
    second = services.address_create(user=user, **_address_fields(line1="2 Side Street"), is_default=True)

    first.refresh_from_db()
    assert second.is_default
    assert not first.is_default
    assert Address.objects.filter(user=user, is_default=True).count() == 1


def test_other_addresses_do_not_take_the_default(user):
    first = services.address_create(user=user, **_address_fields())
    second = services.address_create(user=user, **_address_fields(line1="2 Side Street"))

    first.refresh_from_db()
    assert first.is_default
    assert not second.is_default


def test_make_default_moves_the_single_default(user):
    first = services.address_create(user=user, **_address_fields())
    second = services.address_create(user=user, **_address_fields(line1="2 Side Street"))

    services.address_make_default(address=second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_unsetting_default_on_the_default_address_keeps_it(user):
    address = services.address_create(user=user, **_address_fields())

    services.address_update(address=address, data={"is_default": False})

    address.refresh_from_db()
    assert address.is_default


def test_deleting_the_default_address_makes_the_newest_remaining_one_default(user):
    default = services.address_create(user=user, **_address_fields())
    older = services.address_create(user=user, **_address_fields(line1="2 Side Street"))
    newest = services.address_create(user=user, **_address_fields(line1="3 Back Street"))

    services.address_delete(address=default)

    older.refresh_from_db()
    newest.refresh_from_db()
    assert newest.is_default
    assert not older.is_default


def test_country_code_is_upper_cased(user):
    address = services.address_create(user=user, **_address_fields(country=" fr "))

    assert address.country == "FR"


@pytest.mark.parametrize("country", ["D1", "DEU", "", "ÄÖ"])
def test_country_must_be_two_letters(user, country):
    with pytest.raises(ValidationError) as caught:
        services.address_create(user=user, **_address_fields(country=country))

    assert "country" in caught.value.message_dict
    assert not Address.objects.filter(user=user).exists()


def test_update_changes_only_the_given_fields(user):
    address = AddressFactory(user=user, city="Berlin", line1="1 Market Street")

    services.address_update(address=address, data={"city": "Hamburg"})

    address.refresh_from_db()
    assert (address.city, address.line1) == ("Hamburg", "1 Market Street")


def test_update_refuses_a_required_field_emptied(user):
    address = AddressFactory(user=user)

    with pytest.raises(ValidationError) as caught:
        services.address_update(address=address, data={"city": "  "})

    assert "city" in caught.value.message_dict

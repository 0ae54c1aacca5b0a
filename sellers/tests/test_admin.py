"""Staff review sellers in /admin/ (actions publish and email); a seller edits its own store profile in
the Seller Centre (/seller/), where an IBAN is taken once and only its last four characters kept."""

import logging

import pytest
from django.core import mail
from django.urls import reverse

from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_DIGITS = "370400440532013000"


def run_action(client, action, sellers):
    return client.post(
        reverse("admin:sellers_seller_changelist"),
        {"action": action, "_selected_action": [s.pk for s in sellers]},
        follow=True,
    )


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (Seller.Status.PENDING, "approve", Seller.Status.APPROVED),
        (Seller.Status.PENDING, "reject", Seller.Status.REJECTED),
        (Seller.Status.APPROVED, "suspend", Seller.Status.SUSPENDED),
        (Seller.Status.SUSPENDED, "reinstate", Seller.Status.APPROVED),
    ],
)
def test_staff_actions_change_the_status_publish_and_email(
    staff_client, start, action, end, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=start)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff_client, action, [seller])

    assert response.status_code == 200
    seller.refresh_from_db()
    assert seller.status == end
    event = OutboxEvent.objects.get(name="sellers.seller_status_changed")
    assert event.payload["previous_status"] == start
    assert event.payload["status"] == end
    assert [m.to for m in mail.outbox] == [[seller.user.email]]


def test_an_action_that_does_not_apply_leaves_the_seller_alone_and_says_so(staff_client):
    approved = SellerFactory()

    response = run_action(staff_client, "reject", [approved])

    approved.refresh_from_db()
    assert approved.status == Seller.Status.APPROVED
    assert b"cannot be rejected" in response.content
    assert not OutboxEvent.objects.exists()


def test_approve_leaves_suspended_sellers_to_reinstate(staff_client):
    suspended = SellerFactory(status=Seller.Status.SUSPENDED)

    response = run_action(staff_client, "approve", [suspended])

    suspended.refresh_from_db()
    assert suspended.status == Seller.Status.SUSPENDED
    assert b"Reinstate" in response.content


def test_staff_cannot_edit_the_status_directly(staff_client, pending_seller):
    form = staff_client.get(reverse("admin:sellers_seller_change", args=[pending_seller.pk])).context["adminform"].form

    assert "status" not in form.fields


def test_staff_set_an_iban_of_which_only_the_last_four_are_kept(staff_client, caplog):
    seller = SellerFactory()
    caplog.set_level(logging.DEBUG)
    url = reverse("admin:sellers_seller_change", args=[seller.pk])
    data = {
        "user": seller.user.pk,
        "store_name": seller.store_name,
        "slug": seller.slug,
        "description": "",
        "return_policy": "",
        "commission_rate": "0.0900",
        "payout_account_holder": "Store Ltd",
        "payout_provider_ref": "acct_123",
        "iban": IBAN,
    }

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    seller.refresh_from_db()
    assert seller.payout_account_last4 == "3000"
    assert str(seller.commission_rate) == "0.0900"
    assert IBAN_DIGITS not in caplog.text
    assert IBAN_DIGITS.encode() not in staff_client.get(url).content


# --- the seller's own profile on the seller site ---------------------------------------------------


@pytest.fixture
def seller():
    return SellerFactory(store_name="Oak & Iron")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


def profile_url(seller):
    return reverse("seller_admin:sellers_storeprofile_change", args=[seller.pk])


def profile_data(seller, **changes):
    return {
        "store_name": seller.store_name,
        "description": seller.description,
        "return_policy": seller.return_policy,
        "payout_account_holder": seller.payout_account_holder,
        "iban": "",
    } | changes


def test_the_profile_list_goes_straight_to_the_sellers_own_profile(seller_client, seller):
    SellerFactory()

    response = seller_client.get(reverse("seller_admin:sellers_storeprofile_changelist"))

    assert response.status_code == 302
    assert response.url == profile_url(seller)


def test_another_sellers_profile_is_not_found(seller_client):
    other = SellerFactory()

    assert seller_client.get(profile_url(other)).status_code == 404
    response = seller_client.post(profile_url(other), profile_data(other, store_name="Mine now"))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.store_name != "Mine now"


def test_the_seller_edits_its_profile_and_payout_account(seller_client, seller, caplog):
    caplog.set_level(logging.DEBUG)

    response = seller_client.post(
        profile_url(seller),
        profile_data(seller, return_policy="30 days, free returns.", payout_account_holder="Oak & Iron Ltd", iban=IBAN),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    seller.refresh_from_db()
    assert seller.return_policy == "30 days, free returns."
    assert seller.payout_account_last4 == "3000"
    page = seller_client.get(profile_url(seller)).content
    assert "•••• 3000".encode() in page
    assert IBAN_DIGITS.encode() not in page
    assert IBAN_DIGITS not in caplog.text


def test_a_mistyped_iban_is_refused_without_repeating_it(seller_client, seller):
    response = seller_client.post(
        profile_url(seller), profile_data(seller, payout_account_holder="Oak", iban="DE89 3704 0044 0532 0130 01")
    )

    assert response.status_code == 200
    assert "iban" in response.context["adminform"].form.errors
    assert b"370400440532013001" not in response.content
    seller.refresh_from_db()
    assert seller.payout_account_last4 == ""


def test_the_seller_cannot_change_its_status_slug_or_commission(seller_client, seller):
    seller_client.post(
        profile_url(seller),
        profile_data(seller, status="approved", slug="taken-over", commission_rate="0"),
    )

    seller.refresh_from_db()
    assert seller.slug != "taken-over"
    assert seller.commission_rate is None


def test_a_logo_over_two_megabytes_is_refused(seller_client, seller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1), content_type="image/png")

    response = seller_client.post(profile_url(seller), profile_data(seller, logo=big))

    assert response.status_code == 200
    assert "logo" in response.context["adminform"].form.errors

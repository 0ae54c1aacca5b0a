import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from sellers import services
from sellers.events import SELLER_STATUS_CHANGED
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_apply_creates_a_pending_seller_with_a_unique_slug(user):
    SellerFactory(slug="green-shop")

    seller = services.seller_apply(user=user, store_name="  Green Shop ", description="Plants.")

    assert seller.status == Seller.Status.PENDING
    assert seller.store_name == "Green Shop"
    assert seller.slug == "green-shop-2"


def test_apply_twice_is_refused(user):
    services.seller_apply(user=user, store_name="First")

    with pytest.raises(services.AlreadyApplied):
        services.seller_apply(user=user, store_name="Second")
    assert Seller.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("name", ["", "   ", "!!!", "x" * 121])
def test_apply_refuses_a_store_name_that_cannot_be_one(user, name):
    with pytest.raises(ValidationError) as excinfo:
        services.seller_apply(user=user, store_name=name)

    assert "store_name" in excinfo.value.message_dict


def test_approving_publishes_the_status_change_and_emails_the_seller_after_commit(
    pending_seller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        seller = services.seller_set_status(seller=pending_seller, status=Seller.Status.APPROVED)

    assert seller.status == Seller.Status.APPROVED
    assert seller.status_changed_at is not None
    event = OutboxEvent.objects.get(name=SELLER_STATUS_CHANGED)
    assert event.payload == {
        "seller_id": seller.pk,
        "slug": seller.slug,
        "status": "approved",
        "previous_status": "pending",
    }
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [seller.user.email]
    assert "approved" in mail.outbox[0].subject
    assert "/seller/" in mail.outbox[0].body


def test_no_email_before_the_transaction_commits(pending_seller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.seller_set_status(seller=pending_seller, status=Seller.Status.REJECTED)

    assert mail.outbox == []
    assert callbacks  # the email (and the outbox relay) wait for the commit


def test_rejection_is_emailed(pending_seller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.seller_set_status(seller=pending_seller, status=Seller.Status.REJECTED)

    assert len(mail.outbox) == 1
    assert "could not approve" in mail.outbox[0].body


def test_suspend_then_reinstate_publishes_both_changes(db, django_capture_on_commit_callbacks):
    seller = SellerFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.seller_set_status(seller=seller, status=Seller.Status.SUSPENDED)
        services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)

    payloads = [e.payload for e in OutboxEvent.objects.filter(name=SELLER_STATUS_CHANGED).order_by("created_at")]
    assert [(p["previous_status"], p["status"]) for p in payloads] == [
        ("approved", "suspended"),
        ("suspended", "approved"),
    ]
    assert "open again" in mail.outbox[-1].subject


def test_setting_the_same_status_changes_and_publishes_nothing(db):
    seller = SellerFactory()

    services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)

    assert not OutboxEvent.objects.filter(name=SELLER_STATUS_CHANGED).exists()


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Seller.Status.APPROVED, Seller.Status.REJECTED),
        (Seller.Status.PENDING, Seller.Status.SUSPENDED),
        (Seller.Status.REJECTED, Seller.Status.SUSPENDED),
        (Seller.Status.APPROVED, Seller.Status.PENDING),
    ],
)
def test_a_transition_that_makes_no_sense_is_refused(db, start, target):
    seller = SellerFactory(status=start)

    with pytest.raises(services.InvalidStatusChange):
        services.seller_set_status(seller=seller, status=target)

    seller.refresh_from_db()
    assert seller.status == start
    assert not OutboxEvent.objects.exists()


def test_profile_update_keeps_only_the_last_four_characters_of_the_iban(db, caplog):
    seller = SellerFactory(payout_provider_ref="acct_old")
    caplog.set_level("DEBUG")

    services.seller_profile_update(
        seller=seller, data={"payout_account_holder": "Ada Lovelace"}, iban="DE89 3704 0044 0532 0130 00"
    )

    seller.refresh_from_db()
    assert seller.payout_account_holder == "Ada Lovelace"
    assert seller.payout_account_last4 == "3000"
    assert seller.payout_provider_ref == ""  # the old provider account no longer applies
    assert "370400440532013000" not in caplog.text
    stored = " ".join(str(v) for v in Seller.objects.filter(pk=seller.pk).values().get().values())
    assert "370400440532013000" not in stored


def test_profile_update_refuses_fields_a_seller_does_not_own(db):
    seller = SellerFactory()

    with pytest.raises(ValueError, match="not profile fields"):
        services.seller_profile_update(seller=seller, data={"commission_rate": 0})

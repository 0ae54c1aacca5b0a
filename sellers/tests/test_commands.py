from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)  # the email goes out on commit


def test_approve_seller_approves_publishes_and_emails(pending_seller):
    out = StringIO()

    call_command("approve_seller", pending_seller.slug, stdout=out)

    pending_seller.refresh_from_db()
    assert pending_seller.status == Seller.Status.APPROVED
    assert f"Approved {pending_seller.store_name} ({pending_seller.slug}), previously pending review." in out.getvalue()
    assert OutboxEvent.objects.filter(name="sellers.seller_status_changed").count() == 1
    assert [m.to for m in mail.outbox] == [[pending_seller.user.email]]


def test_approve_seller_says_so_when_there_is_nothing_to_do():
    seller = SellerFactory()
    out = StringIO()

    call_command("approve_seller", seller.slug, stdout=out)

    assert "already approved" in out.getvalue()
    assert not OutboxEvent.objects.exists()


def test_approve_seller_fails_for_an_unknown_slug():
    with pytest.raises(CommandError, match="No seller with the slug 'nope'"):
        call_command("approve_seller", "nope")

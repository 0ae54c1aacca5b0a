"""Stock in both admins: a seller sees and sets only its own SKUs' stock on the seller site, with a
reason that is kept as a movement; staff see every SKU and the movements, which nobody edits."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory, VariantFactory
from inventory.models import Stock, StockMovement
from inventory.tests.factories import StockFactory
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def own_stock(seller):
    return StockFactory(variant=VariantFactory(product=ProductFactory(seller=seller, variants=0), sku="OWN-1"))


@pytest.fixture
def other_stock():
    return StockFactory(variant=VariantFactory(sku="OTHER-1"), on_hand=7)


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


def seller_url(name, *args):
    return reverse(f"seller_admin:{name}", args=args)


def stock_change(stock, **changes):
    return {
        "on_hand": str(stock.on_hand),
        "low_stock_threshold": str(stock.low_stock_threshold),
        "reason": "",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "0",
    } | changes


def test_the_changelist_shows_only_the_sellers_own_stock(seller_client, own_stock, other_stock):
    response = seller_client.get(seller_url("inventory_stock_changelist"))

    assert list(response.context["cl"].result_list) == [own_stock]
    assert seller_client.get(seller_url("inventory_stock_changelist"), {"q": "OTHER-1"}).context["cl"].result_count == 0


def test_another_sellers_stock_is_not_found_by_url(seller_client, own_stock, other_stock):
    assert seller_client.get(seller_url("inventory_stock_change", other_stock.pk)).status_code == 404
    assert seller_client.get(seller_url("inventory_stock_history", other_stock.pk)).status_code == 404
    assert seller_client.get(seller_url("inventory_stock_change", own_stock.pk)).status_code == 200


def test_posting_to_another_sellers_stock_changes_nothing(seller_client, other_stock):
    response = seller_client.post(
        seller_url("inventory_stock_change", other_stock.pk), stock_change(other_stock, on_hand="0", reason="theft")
    )

    assert response.status_code == 404
    other_stock.refresh_from_db()
    assert other_stock.on_hand == 7
    assert not StockMovement.objects.exists()


def test_the_seller_sets_on_hand_with_a_reason_kept_as_a_movement(seller_client, seller, own_stock):
    response = seller_client.post(
        seller_url("inventory_stock_change", own_stock.pk),
        stock_change(own_stock, on_hand="25", reason="delivery from supplier"),
    )

    assert response.status_code == 302
    own_stock.refresh_from_db()
    assert own_stock.on_hand == 25
    movement = StockMovement.objects.get(stock=own_stock)
    assert (movement.delta, movement.on_hand_after, movement.reason) == (15, 25, "delivery from supplier")
    assert movement.actor == seller.user


def test_a_change_of_on_hand_needs_a_reason(seller_client, own_stock):
    response = seller_client.post(
        seller_url("inventory_stock_change", own_stock.pk), stock_change(own_stock, on_hand="3")
    )

    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    own_stock.refresh_from_db()
    assert own_stock.on_hand == 10


def test_on_hand_cannot_go_below_what_is_reserved(seller_client, own_stock):
    Stock.objects.filter(pk=own_stock.pk).update(reserved=4)
    own_stock.refresh_from_db()

    response = seller_client.post(
        seller_url("inventory_stock_change", own_stock.pk), stock_change(own_stock, on_hand="3", reason="recount")
    )

    assert response.status_code == 200
    assert "on_hand" in response.context["adminform"].form.errors


def test_the_add_form_offers_only_the_sellers_own_variants(seller_client, seller, other_stock):
    own_variant = VariantFactory(product=ProductFactory(seller=seller, variants=0), sku="OWN-NEW")
    VariantFactory(sku="OTHER-NEW")

    form = seller_client.get(seller_url("inventory_stock_add")).context["adminform"].form

    assert list(form.fields["variant"].queryset) == [own_variant]


def test_adding_stock_for_another_sellers_variant_is_refused(seller_client):
    foreign = VariantFactory(sku="OTHER-NEW")

    response = seller_client.post(
        seller_url("inventory_stock_add"),
        stock_change(Stock(), variant=foreign.pk, on_hand="5", low_stock_threshold="2"),
    )

    assert response.status_code == 200
    assert "variant" in response.context["adminform"].form.errors
    assert not Stock.objects.filter(variant=foreign).exists()


def test_the_seller_adds_the_stock_of_a_new_variant(seller_client, seller):
    variant = VariantFactory(product=ProductFactory(seller=seller, variants=0), sku="OWN-NEW")

    response = seller_client.post(
        seller_url("inventory_stock_add"),
        stock_change(Stock(), variant=variant.pk, on_hand="5", low_stock_threshold="2"),
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    stock = Stock.objects.get(variant=variant)
    assert (stock.sku, stock.on_hand, stock.low_stock_threshold) == ("OWN-NEW", 5, 2)
    assert StockMovement.objects.get(stock=stock).reason == "initial stock"


def test_the_variant_autocomplete_offers_only_the_sellers_own_skus(seller_client, own_stock, other_stock):
    response = seller_client.get(
        seller_url("autocomplete"),
        {"app_label": "inventory", "model_name": "stock", "field_name": "variant", "term": "1"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["OWN-1"]


def test_sellers_cannot_delete_stock_rows(seller_client, own_stock, other_stock):
    seller_client.post(
        seller_url("inventory_stock_changelist"),
        {"action": "delete_selected", "_selected_action": [own_stock.pk, other_stock.pk], "post": "yes"},
    )

    assert Stock.objects.count() == 2
    assert seller_client.get(seller_url("inventory_stock_delete", own_stock.pk)).status_code == 403
    assert seller_client.get(seller_url("inventory_stock_delete", other_stock.pk)).status_code == 404


def test_the_low_stock_filter(seller_client, seller, own_stock):
    low = StockFactory(variant=VariantFactory(product=ProductFactory(seller=seller, variants=0)), on_hand=2)

    response = seller_client.get(seller_url("inventory_stock_changelist"), {"level": "low"})

    assert list(response.context["cl"].result_list) == [low]


def test_staff_see_every_sku_and_read_only_movements(client, own_stock, other_stock):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    StockMovement.objects.create(stock=other_stock, delta=7, on_hand_after=7, reason="initial stock")

    assert set(client.get(reverse("admin:inventory_stock_changelist")).context["cl"].result_list) == {
        own_stock,
        other_stock,
    }
    assert client.get(reverse("admin:inventory_stock_change", args=[other_stock.pk])).status_code == 200
    movements = client.get(reverse("admin:inventory_stockmovement_changelist"))
    assert movements.status_code == 200
    assert b"initial stock" in movements.content
    assert client.get(reverse("admin:inventory_stockmovement_add")).status_code == 403

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from backoffice import services
from catalog.models import Product, Variant
from catalog.services import SellerCannotPublish
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory.models import Stock, StockMovement
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def tees():
    fashion = CategoryFactory(name="Fashion", slug="fashion")
    return CategoryFactory(
        name="T-shirts",
        slug="t-shirts",
        parent=fashion,
        attribute_schema=[{"name": "material", "type": "choice", "required": True, "choices": ["Cotton", "Linen"]}],
    )


def tee_data(**overrides) -> dict:
    return {
        "title": "Organic Tee",
        "description": "Soft.",
        "category": "t-shirts",
        "brand": "Acme",
        "attributes": {"material": "Cotton"},
        "variants": [
            {"sku": "TEE-S", "price": Decimal("19.99"), "stock": 5, "attributes": {"size": "S"}},
            {"sku": "TEE-M", "price": Decimal("21.99"), "stock": 0, "attributes": {"size": "M"}},
        ],
    } | overrides


def stock_of(sku) -> int:
    return Stock.objects.get(sku=sku).on_hand


def errors_of(caught) -> dict:
    return caught.value.message_dict


# --- seller_product_create ------------------------------------------------------------------------


def test_create_stores_the_product_and_the_initial_stock_of_each_variant(seller, tees):
    product = services.seller_product_create(seller=seller, data=tee_data(), actor=seller.user)

    assert product.status == Product.Status.ACTIVE
    assert product.category == tees
    assert product.brand.name == "Acme"
    assert product.price == Decimal("19.99")
    assert (stock_of("TEE-S"), stock_of("TEE-M")) == (5, 0)
    movement = StockMovement.objects.get(stock__sku="TEE-S")
    assert (movement.reason, movement.actor) == ("initial stock", seller.user)
    assert OutboxEvent.objects.filter(name="catalog.product_created").count() == 1
    assert OutboxEvent.objects.filter(name="inventory.stock_changed").count() == 2


def test_create_gives_a_variant_without_stock_a_record_of_zero(seller, tees):
    data = tee_data(variants=[{"sku": "TEE-L", "price": "25.00"}])

    services.seller_product_create(seller=seller, data=data, actor=seller.user)

    assert stock_of("TEE-L") == 0


def test_create_accepts_the_strings_of_a_csv_row(seller, tees):
    data = tee_data(
        attributes={"material": "linen"},
        variants=[{"sku": "TEE-S", "price": "19.90", "stock": "12", "compare_at_price": "", "weight_grams": "180"}],
        brand="",
    )

    product = services.seller_product_create(seller=seller, data=data, actor=None)

    variant = Variant.objects.get(sku="TEE-S")
    assert (variant.price, variant.compare_at_price, variant.weight_grams) == (Decimal("19.90"), None, 180)
    assert stock_of("TEE-S") == 12
    assert product.brand is None
    assert product.attributes == {"material": "Linen"}


def test_create_status_may_be_draft(seller, tees):
    product = services.seller_product_create(seller=seller, data=tee_data(status="draft"), actor=None)

    assert product.status == Product.Status.DRAFT


def test_an_unknown_category_is_an_error_on_category(seller, tees):
    with pytest.raises(ValidationError) as caught:
        services.seller_product_create(seller=seller, data=tee_data(category="jetpacks"), actor=None)

    assert errors_of(caught) == {"category": ["There is no category 'jetpacks'."]}
    assert not Product.objects.exists()


def test_a_slug_used_twice_in_the_tree_asks_for_the_path_which_is_accepted(seller, tees):
    CategoryFactory(name="T-shirts", slug="t-shirts", parent=CategoryFactory(name="Kids", slug="kids"))

    with pytest.raises(ValidationError) as caught:
        services.seller_product_create(seller=seller, data=tee_data(), actor=None)
    assert "give its path" in errors_of(caught)["category"][0]

    product = services.seller_product_create(seller=seller, data=tee_data(category="fashion/t-shirts"), actor=None)
    assert product.category == tees


@pytest.mark.parametrize("stock", ["abc", -1, 1_000_001, 2.5, True, [3]])
def test_a_bad_stock_is_an_error_on_that_variant(seller, tees, stock):
    data = tee_data(variants=[{"sku": "TEE-S", "price": "19.99"}, {"sku": "TEE-M", "price": "19.99", "stock": stock}])

    with pytest.raises(ValidationError) as caught:
        services.seller_product_create(seller=seller, data=data, actor=None)

    assert list(errors_of(caught)) == ["variants.1.stock"]


def test_catalog_errors_come_through_keyed_like_the_request(seller, tees):
    data = tee_data(attributes={"material": "Wool"}, variants=[{"sku": "TEE-S", "price": "-3"}])

    with pytest.raises(ValidationError) as caught:
        services.seller_product_create(seller=seller, data=data, actor=None)

    assert set(errors_of(caught)) == {"attributes.material", "variants.0.price"}


def test_unknown_fields_are_refused_rather_than_ignored(seller, tees):
    data = tee_data(colour="red", variants=[{"sku": "TEE-S", "price": "1.00", "qty": 3}])

    with pytest.raises(ValidationError) as caught:
        services.seller_product_create(seller=seller, data=data, actor=None)

    assert set(errors_of(caught)) == {"colour", "variants.0.qty"}


def test_a_pending_seller_cannot_publish_through_the_back_office(tees):
    pending = SellerFactory(status=Seller.Status.PENDING)

    with pytest.raises(SellerCannotPublish):
        services.seller_product_create(seller=pending, data=tee_data(), actor=None)

    assert not Stock.objects.exists()


def test_inside_an_import_transaction_a_bad_row_raises_and_leaves_the_good_rows_to_the_caller(seller, tees):
    """The CSV import runs every row in one transaction: each call is a savepoint and never commits."""

    class BadFile(Exception):
        pass

    def import_rows():
        with transaction.atomic():
            services.seller_product_create(seller=seller, data=tee_data(), actor=None)
            with pytest.raises(ValidationError):
                services.seller_product_create(seller=seller, data=tee_data(title=""), actor=None)
            # the failed row rolled back to its savepoint: the transaction is still usable
            services.seller_product_create(
                seller=seller, data=tee_data(variants=[{"sku": "TEE-XL", "price": "1.00"}]), actor=None
            )
            assert Product.objects.count() == 2
            raise BadFile  # the importer found a bad row: nothing of the file stays

    with pytest.raises(BadFile):
        import_rows()

    assert not Product.objects.exists()
    assert not Stock.objects.exists()
    assert not OutboxEvent.objects.exists()


# --- seller_product_update ------------------------------------------------------------------------


@pytest.fixture
def tee(seller, tees):
    return services.seller_product_create(seller=seller, data=tee_data(), actor=seller.user)


def test_update_changes_only_the_fields_given(seller, tee):
    product = services.seller_product_update(seller=seller, product=tee, data={"title": "Organic Tee 2"}, actor=None)

    assert (product.title, product.description, product.brand.name) == ("Organic Tee 2", "Soft.", "Acme")


def test_update_with_stock_only_sets_on_hand_and_leaves_the_catalog_alone(seller, tee):
    events_before = OutboxEvent.objects.filter(name__startswith="catalog.").count()

    services.seller_product_update(
        seller=seller, product=tee, data={"variants": [{"sku": "TEE-M", "stock": 7}]}, actor=seller.user
    )

    assert stock_of("TEE-M") == 7
    assert StockMovement.objects.filter(stock__sku="TEE-M").latest("id").reason == "set by seller"
    assert OutboxEvent.objects.filter(name__startswith="catalog.").count() == events_before


def test_update_of_a_price_keeps_the_variants_other_fields(seller, tee):
    services.seller_product_update(
        seller=seller, product=tee, data={"variants": [{"sku": "TEE-S", "price": "9.99"}]}, actor=None
    )

    variant = Variant.objects.get(sku="TEE-S")
    assert (variant.price, variant.attributes) == (Decimal("9.99"), {"size": "S"})
    assert stock_of("TEE-S") == 5
    tee.refresh_from_db()
    assert tee.price == Decimal("9.99")


def test_update_adds_a_new_sku_with_its_stock(seller, tee):
    services.seller_product_update(
        seller=seller,
        product=tee,
        data={"variants": [{"sku": "TEE-XL", "price": "23.99", "stock": 3, "attributes": {"size": "XL"}}]},
        actor=None,
    )

    assert tee.variants.count() == 3
    assert stock_of("TEE-XL") == 3


def test_a_new_sku_without_a_price_is_an_error(seller, tee):
    with pytest.raises(ValidationError) as caught:
        services.seller_product_update(
            seller=seller, product=tee, data={"variants": [{"sku": "TEE-XL", "stock": 3}]}, actor=None
        )

    assert errors_of(caught) == {"variants.0.price": ["A new variant needs a price."]}


def test_catalog_errors_of_an_update_keep_the_request_index(seller, tee):
    data = {"variants": [{"sku": "TEE-S", "stock": 1}, {"sku": "TEE-M", "price": "-1"}]}

    with pytest.raises(ValidationError) as caught:
        services.seller_product_update(seller=seller, product=tee, data=data, actor=None)

    assert list(errors_of(caught)) == ["variants.1.price"]
    assert stock_of("TEE-S") == 5  # nothing of the request was applied


def test_update_to_an_unknown_category_is_an_error_on_category(seller, tee):
    with pytest.raises(ValidationError) as caught:
        services.seller_product_update(seller=seller, product=tee, data={"category": "nope"}, actor=None)

    assert list(errors_of(caught)) == ["category"]


def test_update_of_another_sellers_product_is_refused(tee):
    other = SellerFactory()

    with pytest.raises(PermissionDenied):
        services.seller_product_update(seller=other, product=tee, data={"title": "Mine now"}, actor=None)


def test_update_may_archive_and_remove_the_brand(seller, tee):
    product = services.seller_product_update(
        seller=seller, product=tee, data={"status": "archived", "brand": None}, actor=None
    )

    assert (product.status, product.brand) == (Product.Status.ARCHIVED, None)
    assert OutboxEvent.objects.filter(name="catalog.product_archived").count() == 1


def test_a_sku_of_another_sellers_product_cannot_be_taken_by_an_update(seller, tee):
    ProductFactory(variants=0).variants.create(sku="THEIRS-1", price=Decimal("5.00"))

    with pytest.raises(ValidationError) as caught:
        services.seller_product_update(
            seller=seller, product=tee, data={"variants": [{"sku": "THEIRS-1", "price": "1.00"}]}, actor=None
        )

    assert "already used by another product" in errors_of(caught)["variants.0.sku"][0]

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from catalog import events, services
from catalog.models import Brand, Product, Variant
from catalog.services import SellerCannotPublish, VariantInput
from catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

PHONE_SCHEMA = [
    {"name": "screen_size", "type": "number", "required": True, "choices": []},
    {"name": "colour", "type": "choice", "required": False, "choices": ["Black", "Navy", "Silver"]},
    {"name": "dual_sim", "type": "boolean", "required": False, "choices": []},
    {"name": "model", "type": "text", "required": False, "choices": []},
]


@pytest.fixture
def seller():
    return SellerFactory()


@pytest.fixture
def phones():
    return CategoryFactory(name="Phones", slug="phones", attribute_schema=PHONE_SCHEMA)


def create(seller, category, **overrides):
    fields = {
        "seller": seller,
        "title": "Pixel Phone 9",
        "category": category,
        "attributes": {"screen_size": 6.1},
        "variants": [VariantInput(sku="PX9-128", price=Decimal("599.00"))],
    }
    return services.product_create(**(fields | overrides))


def errors_of(caught) -> dict:
    return caught.value.message_dict


def events_named(name):
    return list(OutboxEvent.objects.filter(name=name).order_by("created_at"))


# --- product_create -------------------------------------------------------------------------------


def test_create_stores_the_product_its_variants_and_the_lowest_price(seller, phones):
    product = create(
        seller,
        phones,
        description="  A phone.  ",
        variants=[
            VariantInput(sku="PX9-256", price=Decimal("699.00"), attributes={"storage": "256 GB"}),
            VariantInput(sku="PX9-128", price=Decimal("599.00"), compare_at_price=Decimal("649.00"), weight_grams=190),
        ],
    )

    product.refresh_from_db()
    assert product.seller == seller
    assert product.status == Product.Status.ACTIVE
    assert product.description == "A phone."
    assert product.price == Decimal("599.00")
    assert product.currency == "EUR"
    variants = list(product.variants.order_by("position"))
    assert [(v.sku, v.position) for v in variants] == [("PX9-256", 0), ("PX9-128", 1)]
    assert variants[0].attributes == {"storage": "256 GB"}
    assert variants[1].compare_at_price == Decimal("649.00")
    assert variants[1].weight_grams == 190


def test_create_publishes_product_created_with_ids_and_status(seller, phones):
    product = create(seller, phones, status=Product.Status.DRAFT)

    (event,) = events_named(events.PRODUCT_CREATED)
    assert event.payload == {
        "product_id": product.pk,
        "slug": product.slug,
        "seller_id": seller.pk,
        "category_id": phones.pk,
        "status": "draft",
    }


def test_create_in_a_rolled_back_transaction_leaves_no_product_and_no_event(seller, phones):
    class Abort(Exception):
        pass

    def create_then_fail():
        with transaction.atomic():
            create(seller, phones)
            raise Abort

    with pytest.raises(Abort):
        create_then_fail()

    assert not Product.objects.exists()
    assert not OutboxEvent.objects.filter(name=events.PRODUCT_CREATED).exists()


def test_create_refused_for_bad_input_publishes_nothing(seller, phones):
    with pytest.raises(ValidationError):
        create(seller, phones, title="")

    assert not OutboxEvent.objects.exists()
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "A product needs a title."), ("   ", "A product needs a title."), ("x" * 201, "at most 200 characters")],
)
def test_create_refuses_a_missing_or_long_title(seller, phones, title, message):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, title=title)

    assert message in errors_of(caught)["title"][0]


def test_create_needs_at_least_one_variant(seller, phones):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[])

    assert errors_of(caught)["variants"] == ["A product needs at least one variant."]


def test_create_refuses_more_than_a_hundred_variants(seller, phones):
    variants = [VariantInput(sku=f"V-{i}", price=Decimal("1.00")) for i in range(101)]

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=variants)

    assert "at most 100 variants" in errors_of(caught)["variants"][0]


def test_create_refuses_a_sku_given_twice(seller, phones):
    variants = [VariantInput(sku="DUP", price=Decimal("1.00")), VariantInput(sku="DUP", price=Decimal("2.00"))]

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=variants)

    assert list(errors_of(caught)) == ["variants.1.sku"]
    assert "appears twice" in errors_of(caught)["variants.1.sku"][0]


def test_create_refuses_a_sku_of_another_sellers_product_without_naming_it(seller, phones):
    ProductFactory(variants=0).variants.create(sku="TAKEN-1", price=Decimal("5.00"))

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[VariantInput(sku="TAKEN-1", price=Decimal("9.00"))])

    assert errors_of(caught)["variants.0.sku"] == ["The SKU TAKEN-1 is already used by another product."]


@pytest.mark.parametrize("sku", ["", "has space", "a/b", "-leading-dash", "x" * 65])
def test_create_refuses_a_sku_unfit_for_urls_and_csv(seller, phones, sku):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[VariantInput(sku=sku, price=Decimal("9.00"))])

    assert "variants.0.sku" in errors_of(caught)


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (Decimal("0"), "more than 0"),
        (Decimal("-5.00"), "more than 0"),
        (Decimal("1.999"), "at most 2 decimal places"),
        ("abc", "as a decimal"),
        (1.5, "as a decimal"),  # a float cannot hold cents exactly
        (Decimal("NaN"), "as a decimal"),
        (Decimal("10000000000"), "at most"),
    ],
)
def test_create_refuses_a_price_that_is_not_positive_with_cents(seller, phones, price, message):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[VariantInput(sku="P-1", price=price)])

    assert message in errors_of(caught)["variants.0.price"][0]


def test_create_accepts_a_price_written_as_a_string_and_keeps_cents(seller, phones):
    product = create(seller, phones, variants=[VariantInput(sku="P-1", price="19.90")])

    assert Variant.objects.get(sku="P-1").price == Decimal("19.90")
    assert product.price == Decimal("19.90")


@pytest.mark.parametrize("currency", ["EU", "EURO", "€", "12A", ""])
def test_create_refuses_a_currency_that_is_not_three_letters(seller, phones, currency):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[VariantInput(sku="P-1", price=Decimal("1.00"), currency=currency)])

    assert "three-letter code" in errors_of(caught)["variants.0.currency"][0]


def test_create_upper_cases_the_currency(seller, phones):
    product = create(seller, phones, variants=[VariantInput(sku="P-1", price=Decimal("1.00"), currency="usd")])

    assert product.currency == "USD"
    assert Variant.objects.get(sku="P-1").currency == "USD"


def test_create_refuses_variants_in_two_currencies(seller, phones):
    variants = [
        VariantInput(sku="P-1", price=Decimal("1.00"), currency="EUR"),
        VariantInput(sku="P-2", price=Decimal("1.00"), currency="USD"),
    ]

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=variants)

    assert "one currency (EUR)" in errors_of(caught)["variants.1.currency"][0]


@pytest.mark.parametrize("compare_at_price", [Decimal("599.00"), Decimal("100.00")])
def test_create_refuses_a_compare_at_price_not_above_the_price(seller, phones, compare_at_price):
    variant = VariantInput(sku="P-1", price=Decimal("599.00"), compare_at_price=compare_at_price)

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[variant])

    assert errors_of(caught)["variants.0.compare_at_price"] == ["The compare-at price must be higher than the price."]


def test_create_refuses_variant_attributes_that_are_not_scalars(seller, phones):
    variant = VariantInput(sku="P-1", price=Decimal("1.00"), attributes={"size": ["S", "M"]})

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, variants=[variant])

    assert "variants.0.attributes" in errors_of(caught)


def test_create_reports_every_bad_field_at_once(seller, phones):
    with pytest.raises(ValidationError) as caught:
        create(
            seller,
            phones,
            title="",
            attributes={"colour": "Purple"},
            variants=[VariantInput(sku="", price=Decimal("-1"))],
        )

    assert set(errors_of(caught)) == {
        "title",
        "attributes.colour",
        "attributes.screen_size",
        "variants.0.sku",
        "variants.0.price",
    }


# --- attributes against the category's schema ---------------------------------------------------


def test_create_refuses_an_attribute_the_category_does_not_have(seller, phones):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, attributes={"screen_size": 6, "flavour": "mint"})

    (message,) = errors_of(caught)["attributes.flavour"]
    assert "“Phones” products have no attribute “flavour”" in message
    assert "screen_size, colour, dual_sim, model" in message


def test_create_refuses_a_missing_required_attribute(seller, phones):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, attributes={"colour": "Navy"})

    assert errors_of(caught) == {"attributes.screen_size": ["Required for “Phones” products."]}


@pytest.mark.parametrize(
    ("attributes", "key", "message"),
    [
        ({"screen_size": "big"}, "attributes.screen_size", "Enter a number"),
        ({"screen_size": True}, "attributes.screen_size", "Enter a number"),
        ({"screen_size": 6, "colour": "Purple"}, "attributes.colour", "Choose one of: Black, Navy, Silver."),
        ({"screen_size": 6, "dual_sim": "perhaps"}, "attributes.dual_sim", "Enter true or false."),
        ({"screen_size": 6, "model": 3310}, "attributes.model", "Enter text."),
    ],
)
def test_create_refuses_an_attribute_of_the_wrong_type(seller, phones, attributes, key, message):
    with pytest.raises(ValidationError) as caught:
        create(seller, phones, attributes=attributes)

    assert message in errors_of(caught)[key][0]


def test_create_normalizes_attribute_spellings_of_a_csv_import(seller, phones):
    product = create(
        seller,
        phones,
        attributes={"screen_size": "6.10", "colour": "navy", "dual_sim": "yes", "model": "  P9 "},
    )

    assert product.attributes == {"screen_size": 6.1, "colour": "Navy", "dual_sim": True, "model": "P9"}


def test_create_leaves_out_empty_optional_attributes_but_counts_empty_required_ones_missing(seller, phones):
    product = create(seller, phones, attributes={"screen_size": 6, "colour": "", "model": None})
    assert product.attributes == {"screen_size": 6}

    with pytest.raises(ValidationError) as caught:
        create(seller, phones, attributes={"screen_size": ""}, variants=[VariantInput(sku="X-1", price=1)])
    assert list(errors_of(caught)) == ["attributes.screen_size"]


def test_a_category_without_schema_accepts_no_attributes(seller):
    plain = CategoryFactory(name="Mugs")

    assert create(seller, plain, attributes={}).attributes == {}
    with pytest.raises(ValidationError) as caught:
        create(seller, plain, attributes={"colour": "red"}, variants=[VariantInput(sku="X-1", price=1)])
    assert "Their attributes: none." in errors_of(caught)["attributes.colour"][0]


# --- slugs and brands -----------------------------------------------------------------------------


def test_slug_comes_from_the_title_with_a_short_suffix_when_taken(seller, phones):
    first = create(seller, phones, title="Pixel Phone 9!", variants=[VariantInput(sku="A-1", price=1)])
    second = create(seller, phones, title="Pixel phone 9", variants=[VariantInput(sku="A-2", price=1)])

    assert first.slug == "pixel-phone-9"
    assert second.slug.startswith("pixel-phone-9-")
    assert len(second.slug) == len("pixel-phone-9-") + 6


def test_slug_of_a_title_without_latin_letters_is_product(seller, phones):
    assert create(seller, phones, title="手机").slug == "product"


def test_brand_is_found_by_name_in_any_case_or_created(seller, phones):
    existing = BrandFactory(name="ACME", slug="acme")

    first = create(seller, phones, brand_name=" acme ", variants=[VariantInput(sku="A-1", price=1)])
    second = create(seller, phones, brand_name="Globex  Corp", variants=[VariantInput(sku="A-2", price=1)])

    assert first.brand == existing
    assert second.brand.name == "Globex Corp"
    assert second.brand.slug == "globex-corp"
    assert Brand.objects.count() == 2


def test_brand_get_or_create_refuses_an_empty_or_long_name():
    with pytest.raises(ValidationError):
        services.brand_get_or_create(name="  ")
    with pytest.raises(ValidationError) as caught:
        services.brand_get_or_create(name="b" * 101)
    assert "brand" in errors_of(caught)


def test_a_brand_whose_slug_is_taken_gets_a_suffix():
    BrandFactory(name="Acme Inc", slug="acme")

    brand = services.brand_get_or_create(name="Acme")

    assert brand.slug.startswith("acme-")


# --- who may create and publish -------------------------------------------------------------------


def test_seller_cannot_publish_is_a_permission_denied():
    assert issubclass(SellerCannotPublish, PermissionDenied)


def test_a_pending_seller_cannot_create_an_active_product(phones):
    pending = SellerFactory(status=Seller.Status.PENDING)

    with pytest.raises(SellerCannotPublish, match="waiting for review"):
        create(pending, phones)

    assert not Product.objects.exists()


def test_a_pending_seller_may_prepare_a_draft(phones):
    pending = SellerFactory(status=Seller.Status.PENDING)

    product = create(pending, phones, status=Product.Status.DRAFT)

    assert product.status == Product.Status.DRAFT


@pytest.mark.parametrize("status", [Seller.Status.SUSPENDED, Seller.Status.REJECTED])
def test_a_suspended_or_rejected_seller_cannot_create_even_a_draft(phones, status):
    seller = SellerFactory(status=status)

    with pytest.raises(SellerCannotPublish):
        create(seller, phones, status=Product.Status.DRAFT)


def test_a_pending_seller_cannot_publish_its_draft(phones):
    pending = SellerFactory(status=Seller.Status.PENDING)
    draft = create(pending, phones, status=Product.Status.DRAFT)

    with pytest.raises(SellerCannotPublish):
        services.product_update(product=draft, status=Product.Status.ACTIVE)
    services.product_update(product=draft, title="Still a draft")

    draft.refresh_from_db()
    assert (draft.status, draft.title) == (Product.Status.DRAFT, "Still a draft")


def test_a_suspended_seller_cannot_change_a_product_but_may_archive_it(seller, phones):
    product = create(seller, phones)
    seller.status = Seller.Status.SUSPENDED
    seller.save()
    product = Product.objects.get(pk=product.pk)

    with pytest.raises(SellerCannotPublish):
        services.product_update(product=product, title="New title")
    archived = services.product_archive(product=product)

    assert archived.status == Product.Status.ARCHIVED


# --- product_update -------------------------------------------------------------------------------


def test_update_changes_only_the_fields_given(seller, phones):
    product = create(seller, phones, description="Old words", brand_name="Acme")

    updated = services.product_update(product=product, title="Pixel Phone 9 Pro")

    updated.refresh_from_db()
    assert updated.title == "Pixel Phone 9 Pro"
    assert updated.description == "Old words"
    assert updated.brand.name == "Acme"
    assert updated.slug == product.slug  # the slug is the product's URL: it never changes


def test_update_publishes_product_updated_and_nothing_when_nothing_changed(seller, phones):
    product = create(seller, phones)

    services.product_update(product=product, title=product.title, attributes={"screen_size": 6.1})
    assert events_named(events.PRODUCT_UPDATED) == []

    services.product_update(product=product, description="Now described")
    (event,) = events_named(events.PRODUCT_UPDATED)
    assert event.payload["product_id"] == product.pk
    assert event.payload["status"] == "active"


def test_update_removes_the_brand_with_an_empty_name(seller, phones):
    product = create(seller, phones, brand_name="Acme")

    assert services.product_update(product=product, brand_name="").brand is None


def test_update_changes_stored_variants_by_sku_adds_new_ones_and_refreshes_the_price(seller, phones):
    product = create(
        seller,
        phones,
        variants=[VariantInput(sku="A-1", price=Decimal("50.00")), VariantInput(sku="A-2", price=Decimal("60.00"))],
    )

    updated = services.product_update(
        product=product,
        variants=[
            VariantInput(sku="A-2", price=Decimal("40.00"), attributes={"colour": "Navy"}),
            VariantInput(sku="A-3", price=Decimal("45.00")),
        ],
    )

    variants = {v.sku: v for v in updated.variants.all()}
    assert set(variants) == {"A-1", "A-2", "A-3"}
    assert variants["A-1"].price == Decimal("50.00")
    assert variants["A-2"].price == Decimal("40.00")
    assert variants["A-2"].attributes == {"colour": "Navy"}
    assert variants["A-3"].position == 2
    updated.refresh_from_db()
    assert updated.price == Decimal("40.00")
    assert len(events_named(events.PRODUCT_UPDATED)) == 1


def test_update_refuses_a_sku_of_another_product(seller, phones):
    create(seller, phones, title="Other", variants=[VariantInput(sku="OTHER-1", price=1)])
    product = create(seller, phones, variants=[VariantInput(sku="MINE-1", price=1)])

    with pytest.raises(ValidationError) as caught:
        services.product_update(product=product, variants=[VariantInput(sku="OTHER-1", price=Decimal("2.00"))])

    assert "already used by another product" in errors_of(caught)["variants.0.sku"][0]
    assert Variant.objects.get(sku="OTHER-1").price == Decimal("1.00")


def test_update_refuses_a_variant_in_another_currency_than_the_others(seller, phones):
    product = create(seller, phones, variants=[VariantInput(sku="A-1", price=1), VariantInput(sku="A-2", price=2)])

    with pytest.raises(ValidationError) as caught:
        services.product_update(product=product, variants=[VariantInput(sku="A-2", price=2, currency="USD")])

    assert "one currency (EUR)" in errors_of(caught)["variants.0.currency"][0]


def test_update_to_another_category_checks_the_attributes_against_its_schema(seller, phones):
    product = create(seller, phones, attributes={"screen_size": 6.1, "colour": "Navy"})
    laptops = CategoryFactory(
        name="Laptops", attribute_schema=[{"name": "screen_size", "type": "number", "required": True}]
    )

    with pytest.raises(ValidationError) as caught:
        services.product_update(product=product, category=laptops)
    assert list(errors_of(caught)) == ["attributes.colour"]

    moved = services.product_update(product=product, category=laptops, attributes={"screen_size": 14})
    assert (moved.category, moved.attributes) == (laptops, {"screen_size": 14})


def test_update_to_archived_publishes_updated_then_archived(seller, phones):
    product = create(seller, phones)

    services.product_archive(product=product)
    services.product_archive(product=product)  # again: nothing changes, nothing is published

    assert [e.name for e in OutboxEvent.objects.filter(name__startswith="catalog.product_u")] == [
        events.PRODUCT_UPDATED
    ]
    (archived,) = events_named(events.PRODUCT_ARCHIVED)
    assert archived.payload["status"] == "archived"


def test_update_refuses_an_unknown_status(seller, phones):
    product = create(seller, phones)

    with pytest.raises(ValidationError) as caught:
        services.product_update(product=product, status="deleted")

    assert "status" in errors_of(caught)


# --- checks for forms -----------------------------------------------------------------------------


def test_form_checks_raise_what_the_services_would(phones):
    pending = SellerFactory(status=Seller.Status.PENDING)

    with pytest.raises(SellerCannotPublish):
        services.product_write_check(seller=pending, status=Product.Status.ACTIVE)
    services.product_write_check(seller=pending, status=Product.Status.DRAFT)
    assert services.product_attributes_clean(category=phones, attributes={"screen_size": "6"}) == {"screen_size": 6}
    with pytest.raises(ValidationError) as caught:
        services.product_attributes_clean(category=phones, attributes={})
    assert list(errors_of(caught)) == ["attributes.screen_size"]
    (variant,) = services.product_variants_clean(variants=[VariantInput(sku=" A-1 ", price="2.5", currency="eur")])
    assert (variant.sku, variant.price, variant.currency) == ("A-1", Decimal("2.50"), "EUR")
    with pytest.raises(ValidationError) as caught:
        services.product_variants_clean(variants=[VariantInput(sku="A-1", price=Decimal("-1"))])
    assert list(errors_of(caught)) == ["variants.0.price"]


@pytest.mark.django_db
def test_moving_a_product_to_another_category_names_the_old_one_in_the_event(django_capture_on_commit_callbacks):
    product = ProductFactory()
    old_category = product.category
    new_category = CategoryFactory()
    with django_capture_on_commit_callbacks():
        services.product_update(product=product, category=new_category)

    event = OutboxEvent.objects.filter(name="catalog.product_updated").latest("created_at")
    assert event.payload["category_id"] == new_category.pk
    assert event.payload["previous_category_id"] == old_category.pk

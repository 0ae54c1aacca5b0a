"""The catalog in both admins: a seller reaches only its own products and variants on the seller site
(/seller/), through every URL, action, search and autocomplete; staff see everything in /admin/."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.models import Category, Product, Variant
from catalog.tests.factories import BrandFactory, CategoryFactory, ProductFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return SellerFactory(store_name="Own Store")


@pytest.fixture
def other_seller():
    return SellerFactory(store_name="Rival Store")


@pytest.fixture
def own(seller):
    return ProductFactory(seller=seller, title="Own Lamp")


@pytest.fixture
def others(other_seller):
    return ProductFactory(seller=other_seller, title="Rival Kettle")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def seller_url(name, *args):
    return reverse(f"seller_admin:{name}", args=args)


def product_post_data(product, **changes):
    """A change form's POST for a product with its stored variants (inlines' management forms)."""
    variants = list(product.variants.all())
    data = {
        "title": product.title,
        "description": product.description,
        "category": product.category_id,
        "brand": product.brand_id or "",
        "status": product.status,
        "attributes": "{}",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for i, variant in enumerate(variants):
        data |= {
            f"variants-{i}-id": variant.pk,
            f"variants-{i}-product": product.pk,
            f"variants-{i}-price": str(variant.price),
            f"variants-{i}-compare_at_price": "",
            f"variants-{i}-attributes": "{}",
            f"variants-{i}-weight_grams": "0",
        }
    return data | changes


# --- who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Seller.Status.PENDING, b"Your application is being reviewed"),
        (Seller.Status.SUSPENDED, b"is suspended"),
        (Seller.Status.REJECTED, b"was not approved"),
    ],
)
def test_a_seller_that_is_not_approved_cannot_enter_the_seller_site(client, status, reason):
    seller = SellerFactory(status=status)
    product = ProductFactory(seller=seller, status=Product.Status.DRAFT)
    client.force_login(seller.user)

    for url in [
        seller_url("index"),
        seller_url("catalog_product_changelist"),
        seller_url("catalog_product_change", product.pk),
        seller_url("catalog_product_add"),
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert reason in response.content

    response = client.post(
        seller_url("catalog_product_change", product.pk), product_post_data(product, status="active")
    )
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.status == Product.Status.DRAFT


def test_a_user_without_a_store_is_told_how_to_apply(client):
    client.force_login(UserFactory())

    response = client.get(seller_url("index"))

    assert response.status_code == 403
    assert reverse("sellers:onboarding").encode() in response.content


def test_staff_without_a_store_do_not_get_the_seller_site_either(staff_client):
    assert staff_client.get(seller_url("catalog_product_changelist")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_shops_log_in_page(client):
    response = client.get(seller_url("catalog_product_changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "next=/seller/catalog/product/" in response.url


def test_suspending_a_seller_closes_the_site_on_its_next_request(seller_client, seller):
    assert seller_client.get(seller_url("index")).status_code == 200

    Seller.objects.filter(pk=seller.pk).update(status=Seller.Status.SUSPENDED)

    assert seller_client.get(seller_url("index")).status_code == 403


# --- the changelist, search and views by URL ------------------------------------------------------


def test_the_changelist_shows_only_the_sellers_own_products(seller_client, own, others):
    response = seller_client.get(seller_url("catalog_product_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]
    assert b"Rival Kettle" not in response.content


def test_search_finds_nothing_of_another_seller(seller_client, own, others):
    other_sku = others.variants.get().sku

    by_title = seller_client.get(seller_url("catalog_product_changelist"), {"q": "Rival Kettle"})
    by_sku = seller_client.get(seller_url("catalog_product_changelist"), {"q": other_sku})
    variants = seller_client.get(seller_url("catalog_variant_changelist"), {"q": other_sku})

    assert list(by_title.context["cl"].result_list) == []
    assert list(by_sku.context["cl"].result_list) == []
    assert list(variants.context["cl"].result_list) == []
    own_sku = own.variants.get().sku
    assert [
        v.sku
        for v in seller_client.get(seller_url("catalog_variant_changelist"), {"q": own_sku}).context["cl"].result_list
    ] == [own_sku]


def test_filtering_by_another_sellers_id_in_the_url_shows_nothing_of_theirs(seller_client, own, others, other_seller):
    response = seller_client.get(seller_url("catalog_product_changelist"), {"seller__id__exact": other_seller.pk})

    assert response.status_code in (200, 302)  # an unknown filter redirects with ?e=1
    if response.status_code == 200:
        assert others not in response.context["cl"].result_list


@pytest.mark.parametrize("view", ["catalog_product_change", "catalog_product_history", "catalog_product_delete"])
def test_another_sellers_product_is_not_found_by_url(seller_client, own, others, view):
    assert seller_client.get(seller_url(view, others.pk)).status_code == 404
    assert seller_client.get(seller_url(view, 999_999)).status_code == 404


def test_the_sellers_own_product_opens(seller_client, own):
    response = seller_client.get(seller_url("catalog_product_change", own.pk))

    assert response.status_code == 200
    assert b"Own Lamp" in response.content
    assert b'name="seller"' not in response.content  # the seller is never a form field


def test_another_sellers_variant_is_not_found_by_url(seller_client, own, others):
    other_variant = others.variants.get()

    assert seller_client.get(seller_url("catalog_variant_change", other_variant.pk)).status_code == 404
    assert seller_client.get(seller_url("catalog_variant_change", own.variants.get().pk)).status_code == 200


def test_view_on_site_does_not_reveal_another_sellers_product(seller_client, others):
    content_type = ContentType.objects.get_for_model(Product)

    assert seller_client.get(seller_url("view_on_site", content_type.pk, others.pk)).status_code == 404


# --- writes -----------------------------------------------------------------------------------------


def test_posting_a_change_to_another_sellers_product_is_not_found_and_changes_nothing(seller_client, others):
    response = seller_client.post(
        seller_url("catalog_product_change", others.pk), product_post_data(others, title="Hijacked")
    )

    assert response.status_code == 404
    others.refresh_from_db()
    assert others.title == "Rival Kettle"


def test_an_inline_cannot_reach_another_sellers_variant(seller_client, own, others):
    other_variant = others.variants.get()
    data = product_post_data(own)
    data["variants-0-id"] = other_variant.pk
    data["variants-0-price"] = "1.00"

    seller_client.post(seller_url("catalog_product_change", own.pk), data)

    other_variant.refresh_from_db()
    assert other_variant.price == Decimal("19.99")


def test_the_seller_changes_its_own_product_through_the_catalog_services(seller_client, own):
    variant = own.variants.get()
    data = product_post_data(own, title="Own Lamp, brass")
    data["variants-0-price"] = "24.50"

    response = seller_client.post(seller_url("catalog_product_change", own.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    own.refresh_from_db()
    variant.refresh_from_db()
    assert own.title == "Own Lamp, brass"
    assert variant.price == Decimal("24.50")
    assert own.price == Decimal("24.50")  # the listing price follows the variants
    assert OutboxEvent.objects.filter(name="catalog.product_updated", payload__product_id=own.pk).exists()


def test_the_seller_adds_a_product_with_a_variant(seller_client, seller):
    category = CategoryFactory()
    brand = BrandFactory(name="Lumen")
    data = {
        "title": "Desk Lamp",
        "description": "Warm light.",
        "category": category.pk,
        "brand": brand.pk,
        "status": "active",
        "attributes": "{}",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-sku": "LAMP-1",
        "variants-0-price": "39.00",
        "variants-0-compare_at_price": "",
        "variants-0-attributes": '{"colour": "Brass"}',
        "variants-0-weight_grams": "900",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }

    response = seller_client.post(seller_url("catalog_product_add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    product = Product.objects.get(title="Desk Lamp")
    assert product.seller == seller
    assert product.slug == "desk-lamp"
    assert product.price == Decimal("39.00")
    assert product.variants.get().attributes == {"colour": "Brass"}
    assert OutboxEvent.objects.filter(name="catalog.product_created", payload__product_id=product.pk).exists()
    assert response.url == seller_url("catalog_product_changelist")


def test_the_add_form_refuses_attributes_outside_the_categorys_schema(seller_client):
    category = CategoryFactory(attribute_schema=[{"name": "wattage", "type": "number", "required": True}])
    data = {
        "title": "Bulb",
        "category": category.pk,
        "status": "active",
        "attributes": '{"colour": "red"}',
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-sku": "BULB-1",
        "variants-0-price": "3.00",
        "variants-0-attributes": "{}",
        "variants-0-weight_grams": "0",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }

    response = seller_client.post(seller_url("catalog_product_add"), data)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["attributes"])
    assert "colour" in errors
    assert "wattage" in errors
    assert not Product.objects.filter(title="Bulb").exists()


def test_a_sku_of_another_seller_is_refused(seller_client, own, others):
    data = product_post_data(own)
    data |= {
        "variants-TOTAL_FORMS": "2",
        "variants-1-sku": others.variants.get().sku,
        "variants-1-price": "5.00",
        "variants-1-attributes": "{}",
        "variants-1-weight_grams": "0",
    }

    response = seller_client.post(seller_url("catalog_product_change", own.pk), data)

    assert response.status_code == 200
    assert own.variants.count() == 1


def test_the_archive_action_acts_only_on_the_sellers_own_products(seller_client, own, others):
    response = seller_client.post(
        seller_url("catalog_product_changelist"),
        {"action": "archive_products", "_selected_action": [own.pk, others.pk]},
    )

    assert response.status_code == 302
    own.refresh_from_db()
    others.refresh_from_db()
    assert own.status == Product.Status.ARCHIVED
    assert others.status == Product.Status.ACTIVE
    assert OutboxEvent.objects.filter(name="catalog.product_archived", payload__product_id=own.pk).exists()


def test_bulk_delete_with_another_sellers_ids_touches_nothing_of_theirs(seller_client, own, others):
    seller_client.post(
        seller_url("catalog_product_changelist"),
        {"action": "delete_selected", "_selected_action": [own.pk, others.pk], "post": "yes"},
    )

    assert Product.objects.filter(pk=others.pk).exists()
    assert Variant.objects.filter(product=others).exists()
    # products are archived, not deleted: the seller's own stays too
    assert Product.objects.filter(pk=own.pk).exists()


# --- choices and autocomplete ---------------------------------------------------------------------


def test_the_category_autocomplete_offers_every_category(seller_client):
    CategoryFactory(name="Lamps", slug="lamps")
    CategoryFactory(name="Lampshades", slug="lampshades")

    response = seller_client.get(
        seller_url("autocomplete"),
        {"app_label": "catalog", "model_name": "product", "field_name": "category", "term": "lamp"},
    )

    assert response.status_code == 200
    assert sorted(r["text"] for r in response.json()["results"]) == ["lamps", "lampshades"]


def test_the_add_form_offers_every_category_and_brand_but_no_seller(seller_client):
    CategoryFactory.create_batch(2)

    form = seller_client.get(seller_url("catalog_product_add")).context["adminform"].form

    assert "seller" not in form.fields
    assert set(form.fields["category"].queryset) == set(Category.objects.all())


def test_the_shared_lookups_are_not_in_the_sellers_menu(seller_client):
    app_list = seller_client.get(seller_url("index")).context["app_list"]

    models = {model["object_name"] for app in app_list for model in app["models"]}
    assert "Category" not in models
    assert "Brand" not in models
    assert "Product" in models


# --- staff ------------------------------------------------------------------------------------------


def test_staff_see_and_open_every_sellers_products(staff_client, own, others):
    response = staff_client.get(reverse("admin:catalog_product_changelist"))

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {own, others}
    assert staff_client.get(reverse("admin:catalog_product_change", args=[others.pk])).status_code == 200


def test_staff_cannot_publish_a_product_of_a_pending_seller(staff_client):
    pending = SellerFactory(status=Seller.Status.PENDING)
    draft = ProductFactory(seller=pending, status=Product.Status.DRAFT)
    data = product_post_data(draft, status="active")
    data.pop("seller", None)

    response = staff_client.post(reverse("admin:catalog_product_change", args=[draft.pk]), data)

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.status == Product.Status.DRAFT


def test_staff_category_admin_shows_the_tree_and_checks_the_schema(staff_client):
    root = CategoryFactory(name="Electronics", slug="electronics")

    response = staff_client.post(
        reverse("admin:catalog_category_add"),
        {
            "name": "Phones",
            "slug": "phones",
            "parent": root.pk,
            "position": "0",
            "description": "",
            "commission_rate": "0.0800",
            "attribute_schema": '[{"name": "storage", "type": "size"}]',
        },
    )
    assert response.status_code == 200
    assert "attribute_schema" in response.context["adminform"].form.errors

    response = staff_client.post(
        reverse("admin:catalog_category_add"),
        {
            "name": "Phones",
            "slug": "phones",
            "parent": root.pk,
            "position": "0",
            "description": "",
            "commission_rate": "0.0800",
            "attribute_schema": '[{"name": "storage", "type": "choice", "choices": ["64 GB", "128 GB"]}]',
        },
    )
    assert response.status_code == 302
    phones = Category.objects.get(slug="phones")
    assert phones.path == "electronics/phones"
    listing = staff_client.get(reverse("admin:catalog_category_changelist"))
    assert b"electronics / phones" in listing.content


# --- images -----------------------------------------------------------------------------------------


def _png(width=400, height=300) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def _with_image(data, upload):
    return data | {
        "images-TOTAL_FORMS": "1",
        "images-0-original": upload,
        "images-0-alt_text": "The lamp, lit",
        "images-0-position": "0",
    }


def test_the_seller_uploads_an_image_that_gets_its_renditions(seller_client, own, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("lamp.png", _png(), content_type="image/png")

    with django_capture_on_commit_callbacks(execute=True):  # the processing task is enqueued on commit
        response = seller_client.post(
            seller_url("catalog_product_change", own.pk), _with_image(product_post_data(own), upload)
        )

    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"]
    image = own.images.get()
    assert image.alt_text == "The lamp, lit"
    image.refresh_from_db()
    assert image.status == image.Status.READY  # Celery runs eagerly in tests
    own.refresh_from_db()
    assert own.primary_image == image


def test_a_file_that_is_not_an_image_is_refused_with_a_message(seller_client, own):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("lamp.png", b"this is not a picture", content_type="image/png")

    response = seller_client.post(
        seller_url("catalog_product_change", own.pk), _with_image(product_post_data(own), upload)
    )

    assert response.status_code == 200
    assert not own.images.exists()
    assert b"image" in response.content.lower()

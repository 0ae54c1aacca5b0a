"""The catalog's read queries: what is listed, the category tree, and keyset pagination of listings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import selectors
from catalog.models import Category, Product, ProductImage
from catalog.selectors import ProductSort
from catalog.tests.factories import ProductFactory, VariantFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """electronics > phones > smartphones, electronics > laptops, garden."""
    electronics = Category.objects.create(name="Electronics", slug="electronics")
    phones = Category.objects.create(name="Phones", slug="phones", parent=electronics, position=2)
    smartphones = Category.objects.create(name="Smartphones", slug="smartphones", parent=phones)
    laptops = Category.objects.create(name="Laptops", slug="laptops", parent=electronics, position=1)
    garden = Category.objects.create(name="Garden", slug="garden")
    return {
        "electronics": electronics,
        "phones": phones,
        "smartphones": smartphones,
        "laptops": laptops,
        "garden": garden,
    }


def _aged(product: Product, minutes: int) -> Product:
    """Back-date a product, so "newest first" has a known order."""
    created = timezone.now() - timedelta(minutes=minutes)
    Product.objects.filter(pk=product.pk).update(created_at=created)
    product.created_at = created
    return product


def _image(product: Product, name: str, *, position: int = 0, status: str = "ready", renditions=None) -> ProductImage:
    return ProductImage.objects.create(
        product=product, original=f"products/originals/{name}.jpg", width=800, height=800, alt_text=name,
        position=position, status=status, renditions=renditions or {},
    )  # fmt: skip


# --- listed products --------------------------------------------------------------------------


def test_listed_products_are_active_products_of_approved_sellers():
    listed = ProductFactory()
    ProductFactory(status=Product.Status.DRAFT)
    ProductFactory(status=Product.Status.ARCHIVED)
    ProductFactory(seller=SellerFactory(status=Seller.Status.SUSPENDED))
    ProductFactory(seller=SellerFactory(status=Seller.Status.PENDING))
    ProductFactory(seller=SellerFactory(status=Seller.Status.REJECTED))

    assert list(selectors.listed_products()) == [listed]


def test_suspending_a_seller_delists_its_products_at_once():
    seller = SellerFactory()
    ProductFactory.create_batch(2, seller=seller)
    assert selectors.listed_products().count() == 2

    Seller.objects.filter(pk=seller.pk).update(status=Seller.Status.SUSPENDED)

    assert selectors.listed_products().count() == 0


def test_product_detail_is_none_for_products_buyers_cannot_see():
    draft = ProductFactory(status=Product.Status.DRAFT)
    suspended = ProductFactory(seller=SellerFactory(status=Seller.Status.SUSPENDED))

    assert selectors.product_detail(slug=draft.slug) is None
    assert selectors.product_detail(slug=suspended.slug) is None
    assert selectors.product_detail(slug="no-such-product") is None


def test_product_detail_has_active_variants_and_ready_images_in_order():
    product = ProductFactory(variants=0)
    second = VariantFactory(product=product, position=2)
    first = VariantFactory(product=product, position=1)
    VariantFactory(product=product, position=0, is_active=False)
    _image(product, "b", position=1)
    _image(product, "a", position=0)
    _image(product, "c", position=0, status="pending")

    detail = selectors.product_detail(slug=product.slug)

    assert [v.pk for v in detail.variants.all()] == [first.pk, second.pk]
    assert [i.alt_text for i in detail.images.all()] == ["a", "b"]


@pytest.mark.parametrize(("variants", "images"), [(1, 1), (20, 10)])
def test_product_detail_takes_three_queries_whatever_the_variants_and_images(
    variants, images, django_assert_num_queries
):
    product = ProductFactory(variants=variants)
    for position in range(images):
        _image(product, str(position), position=position)

    with django_assert_num_queries(3):
        detail = selectors.product_detail(slug=product.slug)
        assert len(detail.variants.all()) == variants
        assert len(detail.images.all()) == images
        assert detail.seller.store_name
        assert detail.category.name
        assert detail.brand.name


def test_image_renditions_give_urls_and_sizes_of_ready_images_only():
    product = ProductFactory()
    renditions = {"thumbnail": {"webp": "products/r/1/ab-thumbnail.webp", "jpeg": "products/r/1/ab-thumbnail.jpg",
                                "width": 320, "height": 320}}  # fmt: skip
    ready = _image(product, "a", renditions=renditions)
    pending = _image(product, "b", status="pending", renditions=renditions)

    assert selectors.image_renditions(ready) == {
        "thumbnail": {
            "webp": "/media/products/r/1/ab-thumbnail.webp",
            "jpeg": "/media/products/r/1/ab-thumbnail.jpg",
            "width": 320,
            "height": 320,
        }
    }
    assert selectors.image_renditions(pending) == {}
    assert selectors.image_renditions(None) == {}
    assert selectors.image_renditions(ready, names=("medium",)) == {}  # only the renditions asked for


# --- categories -------------------------------------------------------------------------------


def test_category_by_path_finds_nested_categories(tree):
    assert selectors.category_by_path("electronics/phones/smartphones") == tree["smartphones"]
    assert selectors.category_by_path("/electronics/phones/") == tree["phones"]
    assert selectors.category_by_path("phones") is None


def test_category_children_in_sibling_order(tree):
    assert list(selectors.category_children(tree["electronics"])) == [tree["laptops"], tree["phones"]]


def test_descendant_ids_are_a_prefix_match_on_the_path(tree):
    # a sibling whose slug starts like "phones" is not below it
    lookalike = Category.objects.create(name="Phones 2", slug="phones-2", parent=tree["electronics"])

    ids = selectors.category_descendant_ids(tree["phones"])

    assert set(ids) == {tree["phones"].pk, tree["smartphones"].pk}
    assert lookalike.pk not in ids
    assert set(selectors.category_descendant_ids(tree["garden"])) == {tree["garden"].pk}


def test_breadcrumbs_and_lineage(tree):
    assert selectors.category_breadcrumbs(tree["smartphones"]) == [
        tree["electronics"],
        tree["phones"],
        tree["smartphones"],
    ]
    assert set(selectors.category_lineage_ids(tree["smartphones"].pk)) == {
        tree["electronics"].pk,
        tree["phones"].pk,
        tree["smartphones"].pk,
    }
    assert selectors.category_lineage_ids(999_999) == []
    assert selectors.category_lineage_paths(tree["smartphones"].pk) == [
        "electronics",
        "electronics/phones",
        "electronics/phones/smartphones",
    ]
    assert selectors.category_lineage_paths(999_999) == []


def test_category_tree_lists_parents_before_children(tree):
    paths = [c.path for c in selectors.category_tree()]

    assert (
        paths.index("electronics") < paths.index("electronics/phones") < paths.index("electronics/phones/smartphones")
    )


# --- category listings ------------------------------------------------------------------------


def _titles(page) -> list[str]:
    return [p.title for p in page.products]


def test_category_listing_includes_every_descendant_and_nothing_unlisted(tree):
    ProductFactory(title="Laptop", category=tree["laptops"])
    ProductFactory(title="Phone", category=tree["smartphones"])
    ProductFactory(title="On the node itself", category=tree["electronics"])
    ProductFactory(title="Garden hose", category=tree["garden"])
    ProductFactory(title="Draft", category=tree["laptops"], status=Product.Status.DRAFT)
    ProductFactory(title="Suspended", category=tree["laptops"], seller=SellerFactory(status=Seller.Status.SUSPENDED))
    ProductFactory(title="No variant", category=tree["laptops"], variants=0, price=None)

    page = selectors.products_in_category(tree["electronics"])

    assert sorted(_titles(page)) == ["Laptop", "On the node itself", "Phone"]
    assert selectors.count_products_in_categories(selectors.category_descendant_ids(tree["electronics"]), cap=100) == 3


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (ProductSort.NEWEST, ["new", "middle", "old"]),
        (ProductSort.PRICE_ASC, ["middle", "old", "new"]),
        (ProductSort.PRICE_DESC, ["new", "old", "middle"]),
    ],
)
def test_category_listing_sorts(tree, sort, expected):
    _aged(ProductFactory(title="old", price=Decimal("20.00"), category=tree["laptops"]), 30)
    _aged(ProductFactory(title="middle", price=Decimal("5.00"), category=tree["smartphones"]), 20)
    _aged(ProductFactory(title="new", price=Decimal("99.00"), category=tree["laptops"]), 10)

    assert _titles(selectors.products_in_category(tree["electronics"], sort=sort)) == expected


def _walk(category, sort, limit, **kwargs):
    """Every page from the first by the after-cursor, then back by the before-cursor."""
    forward, page = [], selectors.products_in_category(category, sort=sort, limit=limit, **kwargs)
    pages = [page]
    while True:
        forward.extend(p.pk for p in page.products)
        if not page.has_next:
            break
        page = selectors.products_in_category(
            category, sort=sort, limit=limit, after=selectors.listing_key(page.products[-1], sort)
        )
        pages.append(page)
    backward = list(pages[-1].products)
    page = pages[-1]
    while page.has_previous:
        page = selectors.products_in_category(
            category, sort=sort, limit=limit, before=selectors.listing_key(page.products[0], sort)
        )
        backward = list(page.products) + backward
    return forward, [p.pk for p in backward], pages


@pytest.mark.parametrize("sort", list(ProductSort))
def test_keyset_pages_cover_the_listing_once_in_both_directions_with_ties(tree, sort):
    # equal prices and equal times: the id breaks the ties, so nothing repeats or goes missing
    same_time = timezone.now() - timedelta(hours=1)
    for i in range(11):
        category = tree["laptops"] if i % 2 else tree["smartphones"]
        product = ProductFactory(price=Decimal("10.00") if i < 6 else Decimal(str(i)), category=category)
        if i < 5:
            Product.objects.filter(pk=product.pk).update(created_at=same_time)
    expected = [p.pk for p in selectors.products_in_category(tree["electronics"], sort=sort, limit=100).products]

    forward, backward, pages = _walk(tree["electronics"], sort, limit=3)

    assert forward == expected
    assert backward == expected
    assert len(expected) == 11
    assert [len(p.products) for p in pages] == [3, 3, 3, 2]
    assert not pages[0].has_previous
    assert pages[1].has_previous
    assert pages[-2].has_next
    assert not pages[-1].has_next


@pytest.mark.parametrize("sort", list(ProductSort))
def test_an_offset_page_is_the_same_as_the_keyset_page(tree, sort):
    for i in range(10):
        ProductFactory(price=Decimal(i + 1), category=tree["laptops"] if i % 3 else tree["smartphones"])
    _, _, pages = _walk(tree["electronics"], sort, limit=4)

    by_offset = selectors.products_in_category(tree["electronics"], sort=sort, limit=4, offset=4)

    assert [p.pk for p in by_offset.products] == [p.pk for p in pages[1].products]
    assert by_offset.has_previous
    assert by_offset.has_next


def test_an_offset_past_the_end_is_an_empty_page(tree):
    ProductFactory(category=tree["laptops"])

    page = selectors.products_in_category(tree["electronics"], offset=24)

    assert page.products == []
    assert not page.has_next


def test_a_subtree_above_the_merge_limit_still_lists_in_order(tree, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_MERGED_CATEGORIES", 1)
    old = _aged(ProductFactory(category=tree["laptops"]), 10)
    new = ProductFactory(category=tree["smartphones"])

    page = selectors.products_in_category(tree["electronics"])

    assert [p.pk for p in page.products] == [new.pk, old.pk]
    assert selectors.count_products_in_categories(selectors.category_descendant_ids(tree["electronics"]), cap=10) == 2


def test_counts_stop_at_the_cap(tree):
    ProductFactory.create_batch(5, category=tree["laptops"])
    ids = selectors.category_descendant_ids(tree["electronics"])

    assert selectors.count_products_in_categories(ids, cap=3) == 3
    assert selectors.count_products_in_categories(ids, cap=100) == 5
    assert selectors.count_products_in_categories([], cap=100) == 0


@pytest.mark.parametrize("products", [5, 60])
def test_a_listing_page_takes_the_same_queries_however_many_products(tree, products, django_assert_num_queries):
    for i in range(products):
        ProductFactory(category=tree["laptops"] if i % 2 else tree["smartphones"], variants=2)
    ids = selectors.category_descendant_ids(tree["electronics"])

    with django_assert_num_queries(3):  # keys, products with seller/brand/image, variants
        page = selectors.products_in_categories(ids, limit=24)
        assert all(p.seller.store_name and len(p.variants.all()) == 2 for p in page.products)


# --- seller listings --------------------------------------------------------------------------


def test_seller_listing_pages_by_cursor():
    seller = SellerFactory()
    products = [_aged(ProductFactory(seller=seller), minutes) for minutes in (30, 20, 10)]
    ProductFactory()  # another seller's

    first = selectors.products_of_seller(seller, limit=2)
    second = selectors.products_of_seller(
        seller, limit=2, after=selectors.listing_key(first.products[-1], ProductSort.NEWEST)
    )

    assert [p.pk for p in first.products] == [products[2].pk, products[1].pk]
    assert [p.pk for p in second.products] == [products[0].pk]
    assert first.has_next
    assert not second.has_next
    assert selectors.count_products_of_seller(seller, cap=10) == 3


def test_new_arrivals_are_the_latest_listed_products():
    old = _aged(ProductFactory(), 30)
    new = ProductFactory()
    ProductFactory(status=Product.Status.DRAFT)

    assert selectors.new_arrivals(limit=5) == [new, old]
    assert selectors.new_arrivals(limit=1) == [new]


def test_cursor_values_parse_back_by_sort():
    assert ProductSort.PRICE_ASC.parse_value("19.90") == Decimal("19.90")
    now = timezone.now()
    assert ProductSort.NEWEST.parse_value(str(now)) == now
    for sort, raw in [
        (ProductSort.NEWEST, "2024-01-01T00:00:00"),
        (ProductSort.PRICE_ASC, "NaN"),
        (ProductSort.NEWEST, "x"),
    ]:
        with pytest.raises(ValueError):  # noqa: PT011 - the message is datetime's or Decimal's own
            sort.parse_value(raw)

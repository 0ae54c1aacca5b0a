"""Category, product and seller pages and the home page's new arrivals: what buyers see, what they
must not see, sorting and pagination, and the query budgets."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from storefront.pagination import MAX_PAGE_NUMBER, PAGE_SIZE
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _grid(html: str) -> str:
    return html.split('<ul class="product-grid">', 1)[1].split("</ul>", 1)[0] if 'class="product-grid"' in html else ""


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="product-card-title">([^<]*)</h3>', _grid(html))


def _aged(product: Product, minutes: int) -> Product:
    Product.objects.filter(pk=product.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return product


def _breadcrumbs(html: str) -> list[str]:
    nav = html.split('<nav class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", nav, flags=re.S)]


def _card(html: str, title: str) -> str:
    """The card (<article>) of the product with this title."""
    cards = re.findall(r'<article class="product-card">.*?</article>', html, flags=re.S)
    return next(card for card in cards if f'<h3 class="product-card-title">{title}</h3>' in card)


def _href(html: str, rel: str) -> str | None:
    match = re.search(rf'<a class="pagination-link" rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


# --- category page ----------------------------------------------------------------------------


def test_category_page_lists_the_whole_subtree_with_breadcrumbs_and_subcategories(client, tree):
    make_product(category=tree["laptops"], title="Laptop Pro")
    make_product(category=tree["smartphones"], title="Phone One")
    make_product(category=tree["garden"], title="Garden Hose")

    response = client.get("/c/electronics/phones/")

    assert response.status_code == 200
    html = _html(response)
    assert _titles(html) == ["Phone One"]
    assert _breadcrumbs(html) == ["Home", "Electronics", "Phones"]
    assert re.search(r"<h1[^>]*>Phones</h1>", html)
    assert 'href="/c/electronics/phones/smartphones/"' in html.split('class="subcategories"', 1)[1]
    assert "1 product</p>" in html

    root = _html(client.get("/c/electronics/"))
    assert sorted(_titles(root)) == ["Laptop Pro", "Phone One"]
    assert "2 products" in root


def test_unknown_category_is_404(client, tree):
    assert client.get("/c/electronics/tablets/").status_code == 404
    assert client.get("/c/phones/").status_code == 404  # a path, not a slug


@pytest.mark.parametrize(
    "make_hidden",
    [
        lambda category: make_product(category=category, title="Hidden", status=Product.Status.DRAFT),
        lambda category: make_product(category=category, title="Hidden", status=Product.Status.ARCHIVED),
        lambda category: make_product(
            category=category, title="Hidden", seller=SellerFactory(status=Seller.Status.SUSPENDED)
        ),
        lambda category: make_product(
            category=category, title="Hidden", seller=SellerFactory(status=Seller.Status.PENDING)
        ),
    ],
    ids=["draft", "archived", "suspended-seller", "pending-seller"],
)
def test_unlisted_products_are_404_and_absent_from_listings(client, tree, make_hidden):
    make_product(category=tree["laptops"], title="Visible")
    hidden = make_hidden(tree["laptops"])

    assert client.get(f"/p/{hidden.slug}/").status_code == 404
    assert client.get(f"/api/v1/products/{hidden.slug}/").status_code == 404
    for url in ("/", "/c/electronics/", "/c/electronics/laptops/"):
        html = _html(client.get(url))
        assert "Hidden" not in html
        assert "Visible" in html
    if hidden.seller.is_approved:
        assert "Hidden" not in _html(client.get(f"/s/{hidden.seller.slug}/"))


def test_empty_category_shows_an_empty_state(client, tree):
    response = client.get("/c/garden/")

    assert response.status_code == 200
    html = _html(response)
    assert "No products in this category yet" in html
    assert "product-card" not in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Newest", "Middle", "Oldest"]),
        ("?sort=newest", ["Newest", "Middle", "Oldest"]),
        ("?sort=price_asc", ["Middle", "Oldest", "Newest"]),
        ("?sort=price_desc", ["Newest", "Oldest", "Middle"]),
    ],
)
def test_category_page_sorts(client, tree, sort, expected):
    _aged(make_product(category=tree["laptops"], title="Oldest", price="20.00"), 30)
    _aged(make_product(category=tree["smartphones"], title="Middle", price="5.00"), 20)
    _aged(make_product(category=tree["laptops"], title="Newest", price="99.00"), 10)

    html = _html(client.get(f"/c/electronics/{sort}"))

    assert _titles(html) == expected
    if sort:
        assert re.search(rf'<option value="{sort.split("=")[1]}" selected>', html)


@pytest.fixture
def fifty(tree):
    """50 laptops and phones, newest first: Item 00 (newest) ... Item 49 (oldest)."""
    for i in range(50):
        category = tree["laptops"] if i % 2 else tree["smartphones"]
        _aged(ProductFactory(title=f"Item {i:02d}", category=category, price=Decimal(100 - i)), i + 1)
    return [f"Item {i:02d}" for i in range(50)]


def test_next_and_previous_links_walk_the_listing_by_cursor(client, fifty):
    first = _html(client.get("/c/electronics/"))
    assert _titles(first) == fifty[:PAGE_SIZE]
    assert _href(first, "prev") is None

    second = _html(client.get("/c/electronics/" + _href(first, "next")))
    assert _titles(second) == fifty[PAGE_SIZE : 2 * PAGE_SIZE]
    assert "page 2" in second

    third = _html(client.get("/c/electronics/" + _href(second, "next")))
    assert _titles(third) == fifty[2 * PAGE_SIZE :]
    assert _href(third, "next") is None

    back = _html(client.get("/c/electronics/" + _href(third, "prev")))
    assert _titles(back) == fifty[PAGE_SIZE : 2 * PAGE_SIZE]
    assert _href(second, "prev") == "./"  # page 1 is the plain URL


def test_cursor_links_keep_the_sort(client, fifty):
    first = _html(client.get("/c/electronics/?sort=price_asc"))
    next_url = _href(first, "next")
    assert "sort=price_asc" in next_url

    second = _html(client.get("/c/electronics/" + next_url))

    by_price = sorted(fifty, key=lambda title: 100 - int(title.split()[1]))
    assert _titles(second) == by_price[PAGE_SIZE : 2 * PAGE_SIZE]


def test_page_numbers_link_straight_to_a_page(client, fifty):
    html = _html(client.get("/c/electronics/?page=3"))

    assert _titles(html) == fifty[2 * PAGE_SIZE :]
    current = '<span class="pagination-page is-current" aria-current="page"><span class="visually-hidden">Page </span>'
    assert current + "3</span>" in html
    assert 'href="?page=2"' in html
    assert "<title>Electronics · page 3 · The Shop</title>" in html
    assert _titles(_html(client.get("/c/electronics/?page=1"))) == fifty[:PAGE_SIZE]


@pytest.mark.parametrize(
    "query",
    [
        "?page=4",  # past the end
        f"?page={MAX_PAGE_NUMBER + 1}",
        "?page=0",
        "?page=-1",
        "?page=abc",
        "?page=1e3",
        "?page=%EF%BC%92",  # a full-width digit
        "?page=99999999999999999999",
        "?after=garbage",
        "?before=",
        "?after=eyJ4IjoxfQ",  # valid base64, wrong shape
        "?sort=cheapest",
        "?page=2&after=abc",
    ],
)
def test_bad_or_missing_pages_are_404_never_500(client, fifty, query):
    assert client.get(f"/c/electronics/{query}").status_code == 404


def test_a_cursor_from_another_sort_is_404(client, fifty):
    next_url = _href(_html(client.get("/c/electronics/?sort=price_asc")), "next")

    assert client.get("/c/electronics/" + next_url.replace("price_asc", "price_desc")).status_code == 404


def test_huge_listings_say_how_many_up_to_a_cap(client, tree, monkeypatch):
    from storefront import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        make_product(category=tree["laptops"])

    assert "3+ products" in _html(client.get("/c/electronics/"))


# --- product cards ----------------------------------------------------------------------------


def test_a_product_card_shows_image_title_brand_prices_seller_and_stock(client, tree):
    product = make_product(category=tree["laptops"], title="Laptop Pro", price="899.00", compare_at="999.00", images=1)
    make_product(category=tree["laptops"], title="Sold Out", stock=0)

    html = _html(client.get("/c/electronics/laptops/"))
    card = _card(html, "Laptop Pro")

    assert f'href="/p/{product.slug}/"' in card
    assert '<source type="image/webp" srcset="/media/products/r/' in card
    image = re.search(r'<img class="product-card-image" [^>]*>', card).group(0)
    assert re.search(r'src="/media/products/r/\d+/abc123-thumbnail\.jpg"', image)
    assert re.search(r'srcset="/media/products/r/\d+/abc123-thumbnail\.jpg 320w, /media/\S+-medium\.jpg 720w"', image)
    assert 'width="320" height="320" alt="Laptop Pro photo 1"' in image
    assert product.brand.name in card
    assert "€899.00" in card
    assert re.search(r'<s class="price-was">.*€999.00</s>', card)
    assert f'Sold by <a href="/s/{product.seller.slug}/">{product.seller.store_name}</a>' in card
    assert "Out of stock" not in card
    sold_out = _card(html, "Sold Out")
    assert "Out of stock" in sold_out
    assert "/static/img/placeholder.svg" in sold_out  # no photo: the placeholder, with its size and alt
    assert 'width="320" height="320" alt="No photo yet"' in sold_out


# --- product page -----------------------------------------------------------------------------


@pytest.fixture
def phone(tree):
    product = make_product(
        category=tree["smartphones"],
        title="Phone X",
        price="499.00",
        variants=[
            {"storage": "128 GB", "colour": "Black"},
            {"storage": "256 GB", "colour": "Black"},
            {"storage": "256 GB", "colour": "White"},
        ],
        stock=[0, 3, 40],
        images=3,
        attributes={"screen_size": 6.1, "colour": "Black", "water_resistant": True},
        description="A phone.\n\nWith two paragraphs.",
    )
    return product


def test_product_page_shows_everything_a_buyer_needs(client, phone):
    response = client.get(f"/p/{phone.slug}/")

    assert response.status_code == 200
    html = _html(response)
    assert re.search(r'<h1 class="product-title">Phone X</h1>', html)
    assert _breadcrumbs(html) == ["Home", "Electronics", "Phones", "Smartphones", "Phone X"]
    assert phone.brand.name in html
    assert f'Sold by <a href="/s/{phone.seller.slug}/">{phone.seller.store_name}</a>' in html
    assert "€499.00" in html
    # gallery: medium renditions, each linking to its large one
    assert re.search(r'<a class="gallery-main" href="/media/products/r/\d+/abc123-large\.jpg"', html)
    assert re.search(r'<source type="image/webp" srcset="/media/products/r/\d+/abc123-medium\.webp"', html)
    assert len(re.findall(r'class="gallery-thumb[ "]', html)) == 3
    # description and attributes
    assert "<p>A phone.</p>" in html
    assert "<p>With two paragraphs.</p>" in html
    assert '<th scope="row">Screen size</th><td>6.1</td>' in html
    assert '<th scope="row">Water resistant</th><td>Yes</td>' in html


def test_variant_picker_has_radios_per_attribute_and_a_select_that_works_without_js(client, phone):
    html = _html(client.get(f"/p/{phone.slug}/"))
    form = html.split('<form class="buy-box"', 1)[1].split("</form>", 1)[0]

    assert 'method="post" action="/cart/items/"' in html
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="quantity"' in form
    assert re.search(r'<fieldset class="option-group" data-option="storage" hidden>', form)
    assert re.search(r'name="option-colour" value="White"', form)
    options = re.findall(r"<option value=\"(SKU-[^\"]+)\"([^>]*)>([^<]*)</option>", form)
    assert [label.split(" · ")[-1] for _, _, label in options] == ["Out of stock", "Only 3 left", "In stock"]
    assert "disabled" in options[0][1]  # a sold-out variant cannot be chosen without JS
    assert "selected" in options[1][1]  # the first variant in stock is preselected
    assert '<p class="stock stock-low" data-stock role="status">Only 3 left</p>' in form
    # the radios start on the preselected variant's values
    assert re.search(r'name="option-storage" value="256 GB" checked', form)


def test_a_single_variant_product_submits_its_sku_and_sold_out_disables_the_button(client, tree):
    product = make_product(category=tree["laptops"], stock=0)

    form = _html(client.get(f"/p/{product.slug}/")).split('<form class="buy-box"', 1)[1].split("</form>", 1)[0]

    sku = product.variants.get().sku
    assert f'<input type="hidden" name="sku" value="{sku}">' in form
    assert "<select" not in form
    assert "Out of stock" in form
    assert re.search(r"<button[^>]*data-add-to-cart disabled", form)


def test_a_product_without_images_shows_the_placeholder(client, tree):
    product = make_product(category=tree["laptops"], images=0)

    html = _html(client.get(f"/p/{product.slug}/"))

    assert 'src="/static/img/placeholder.svg" width="720" height="720" alt="No photo of this product yet"' in html


def test_unknown_product_is_404(client):
    assert client.get("/p/no-such-thing/").status_code == 404


def test_product_and_category_pages_load_nothing_inline_or_from_elsewhere(client, phone):
    for url in (f"/p/{phone.slug}/", "/c/electronics/", f"/s/{phone.seller.slug}/", "/"):
        html = _html(client.get(url))
        assert not re.search(r"(src|href|srcset)=\"https?://", html), url
        assert not re.search(r"\sstyle=", html), url
        assert "<style" not in html
        for _attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            assert body.strip() == ""


# --- seller page ------------------------------------------------------------------------------


def test_seller_page_shows_the_store_and_only_its_listed_products(client, tree):
    seller = SellerFactory(store_name="Acme Audio", description="Amplifiers since 1999.", return_policy="30 days.")
    make_product(category=tree["laptops"], seller=seller, title="Amp One")
    make_product(category=tree["laptops"], seller=seller, title="Amp Draft", status=Product.Status.DRAFT)
    make_product(category=tree["laptops"], title="Someone else's")

    response = client.get(f"/s/{seller.slug}/")

    assert response.status_code == 200
    html = _html(response)
    assert re.search(r"<h1[^>]*>Acme Audio</h1>", html)
    assert "Amplifiers since 1999." in html
    assert "30 days." in html
    assert _titles(html) == ["Amp One"]
    assert "Verified seller" in html


@pytest.mark.parametrize("status", [Seller.Status.PENDING, Seller.Status.SUSPENDED, Seller.Status.REJECTED])
def test_seller_page_is_404_unless_approved(client, status):
    seller = SellerFactory(status=status)

    assert client.get(f"/s/{seller.slug}/").status_code == 404
    assert client.get("/s/nobody/").status_code == 404


def test_seller_page_paginates_like_categories(client, tree):
    seller = SellerFactory()
    for i in range(PAGE_SIZE + 3):
        _aged(ProductFactory(seller=seller, category=tree["laptops"], title=f"S{i:02d}"), i + 1)

    first = _html(client.get(f"/s/{seller.slug}/"))
    second = _html(client.get(f"/s/{seller.slug}/" + _href(first, "next")))

    assert len(_titles(first)) == PAGE_SIZE
    assert _titles(second) == [f"S{i:02d}" for i in range(PAGE_SIZE, PAGE_SIZE + 3)]
    assert _titles(_html(client.get(f"/s/{seller.slug}/?page=2"))) == _titles(second)
    assert client.get(f"/s/{seller.slug}/?page=3").status_code == 404


# --- home -------------------------------------------------------------------------------------


def test_home_shows_new_arrivals_newest_first(client, tree):
    _aged(make_product(category=tree["laptops"], title="Older"), 10)
    make_product(category=tree["garden"], title="Newer", images=1)
    make_product(category=tree["garden"], title="A draft", status=Product.Status.DRAFT)

    html = _html(client.get("/"))

    assert "New arrivals" in html
    assert _titles(html) == ["Newer", "Older"]


def test_home_without_products_has_no_new_arrivals_section(client, tree):
    assert "New arrivals" not in _html(client.get("/"))


# --- query budgets ----------------------------------------------------------------------------


def _count_queries(client, url, django_assert_num_queries, expected) -> None:
    cache.clear()
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200


# Cold cache: the category tree, the product with seller/brand/category, variants, images, its rating,
# a page of its reviews, stock.
PRODUCT_PAGE_QUERIES = 7
# Cold cache: tree, keys, products, variants, stock, count, and the facet panel's search (facet
# sample, first row; storefront.category_filters), cached apart from the listing.
CATEGORY_PAGE_QUERIES = 8
# Seller (live), tree (header), keys, products, variants, stock, count.
SELLER_PAGE_QUERIES = 7


@pytest.mark.parametrize(("variants", "images"), [(1, 1), (20, 10)])
def test_product_page_query_budget_is_fixed(client, tree, variants, images, django_assert_num_queries):
    product = make_product(
        category=tree["smartphones"], variants=[{"size": str(i)} for i in range(variants)], images=images
    )

    _count_queries(client, f"/p/{product.slug}/", django_assert_num_queries, PRODUCT_PAGE_QUERIES)
    with django_assert_num_queries(0):  # the page and the stock figures from Redis
        client.get(f"/p/{product.slug}/")


@pytest.mark.parametrize("products", [5, 60])
def test_category_page_query_budget_is_fixed(client, tree, products, django_assert_num_queries):
    for i in range(products):
        make_product(category=tree["laptops"] if i % 2 else tree["smartphones"], images=1, variants=[{}, {}])

    for url in ("/c/electronics/laptops/", "/c/electronics/?sort=price_desc", "/c/electronics/"):
        _count_queries(client, url, django_assert_num_queries, CATEGORY_PAGE_QUERIES)
    with django_assert_num_queries(0):  # every fragment from the cache
        client.get("/c/electronics/")


@pytest.mark.parametrize("products", [5, 60])
def test_seller_page_query_budget_is_fixed(client, tree, products, django_assert_num_queries):
    seller = SellerFactory()
    for _ in range(products):
        make_product(category=tree["laptops"], seller=seller, images=1)

    _count_queries(client, f"/s/{seller.slug}/", django_assert_num_queries, SELLER_PAGE_QUERIES)
    with django_assert_num_queries(1):  # the seller, read live (a suspension closes the page at once)
        client.get(f"/s/{seller.slug}/")

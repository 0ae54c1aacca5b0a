from decimal import Decimal

import pytest

from search import services
from search.models import SearchDocument
from search.tests.conftest import slugs
from search.tests.factories import listed_product
from sellers.tests.factories import SellerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("search.tests.urls")]


def test_last_word_matches_as_prefix_so_app_finds_apple_juice(shelf, search_api):
    body = search_api(q="app")
    assert set(slugs(body)) == {"apple-juice", "apple-phone-case"}
    assert body["suggestion"] is None


def test_prefix_applies_to_the_last_word_only(shelf, search_api):
    assert slugs(search_api(q="apple ju"))[0] == "apple-juice"  # the only product matching both
    # "app" is a finished word here: nothing matches it, and the "any word" fallback (PostgreSQL)
    # finds only what "juice" matches
    assert "apple-phone-case" not in slugs(search_api(q="app juice"))


def test_a_word_being_typed_completes_names_not_descriptions(shelf, search_api):
    # "Pressed" is only in the apple juice's description; "phone" and "phones" name titles and a category
    assert "apple-juice" not in slugs(search_api(q="pres"))
    assert set(slugs(search_api(q="phon"))) == {"apple-phone-case", "phone-charger"}
    # a finished word matches descriptions too: "juice" is in the charger's
    assert "phone-charger" in slugs(search_api(q="juice"))


@pytest.mark.parametrize("q", ["& juice", "- juice", '"" juice'])
def test_operators_without_a_word_before_the_last_word_leave_it_searched(shelf, search_api, q):
    assert "apple-juice" in slugs(search_api(q=q))


def test_a_word_with_digits_being_typed_completes_as_a_prefix(shelf, search_api):
    # the vocabulary holds words of letters only, so a model number is completed by a prefix match
    listed_product("Router X200", category_path="electronics", brand="Volt", price="60.00")
    services.documents_rebuild_all()

    assert slugs(search_api(q="router x20")) == ["router-x200"]


def test_misspelt_query_finds_the_product_and_suggests_the_correction(shelf, search_api):
    body = search_api(q="aple juce")
    assert slugs(body)[0] == "apple-juice"
    assert body["suggestion"] == "apple juice"


def test_transposed_letters_are_corrected(shelf, search_api):
    body = search_api(q="ornage")
    assert slugs(body) == ["orange-juice"]
    assert body["suggestion"] == "orange"


def test_result_carries_the_fields_of_the_api(shelf, search_api):
    hit = search_api(q="green tea")["results"][0]
    assert hit == {
        "slug": "green-tea",
        "url": "/p/green-tea/",
        "title": "Green Tea",
        "brand": "Leafy",
        "price": "8.00",
        "currency": "EUR",
        "rating": "0.00",
        "in_stock": True,
        "image": None,
    }


@pytest.mark.parametrize(
    "image",
    [
        None,
        {"thumbnail": {"webp": "products/1/t.webp", "jpeg": "products/1/t.jpg", "width": 320, "height": 320}},
        {"thumbnail": {"webp": "products/1/t.webp"}},  # incomplete: no image
    ],
)
def test_a_hit_reads_as_its_declared_fields_say(image, rf):
    """The hit serializer builds its output directly (search.serializers): the same as DRF's own
    field-by-field representation, which the API schema describes."""
    from rest_framework.serializers import Serializer

    from search.backends.base import Hit
    from search.serializers import SearchHitSerializer

    hit = Hit(
        product_id=1, slug="blue-kettle", title="Blue Kettle", brand="Volt", price=Decimal("19.5"), currency="EUR",
        rating=Decimal("4.25"), in_stock=False, seller_id=2, image=image,
    )  # fmt: skip
    serializer = SearchHitSerializer(context={"request": rf.get("/api/v1/search/")})
    direct = serializer.to_representation(hit)
    assert direct == Serializer.to_representation(serializer, hit)
    assert direct["price"] == "19.50"
    assert direct["url"] == "/p/blue-kettle/"
    assert (direct["image"] is None) == (image is None or "jpeg" not in image["thumbnail"])


def test_title_match_ranks_above_description_match(shelf, search_api):
    assert slugs(search_api(q="juice"))[-1] == "phone-charger"  # "juice" only in its description
    assert set(slugs(search_api(q="juice"))[:2]) == {"apple-juice", "orange-juice"}


def test_brand_and_category_names_are_searchable(shelf, search_api):
    assert set(slugs(search_api(q="orchard"))) == {"apple-juice", "orange-juice"}
    assert set(slugs(search_api(q="drinks"))) == {"apple-juice", "orange-juice", "green-tea"}


def test_sponsored_product_ranks_first_while_its_placement_runs(shelf, search_api):
    from django.utils import timezone

    SearchDocument.objects.filter(product_id=shelf["orange-juice"].pk).update(
        sponsored_until=timezone.now() + timezone.timedelta(days=1)
    )
    assert slugs(search_api(q="juice"))[0] == "orange-juice"


def test_popular_product_ranks_above_an_equal_match(shelf, search_api):
    SearchDocument.objects.filter(product_id=shelf["orange-juice"].pk).update(sales_velocity=50)
    assert slugs(search_api(q="juice"))[0] == "orange-juice"


# --- filters -----------------------------------------------------------------------------------


def test_category_filter_includes_descendants(shelf, search_api):
    assert set(slugs(search_api(category="food"))) == {"apple-juice", "orange-juice", "green-tea"}
    assert set(slugs(search_api(category="food/drinks/juice"))) == {"apple-juice", "orange-juice"}


def test_brand_filter_takes_several_brands(shelf, api_client):
    response = api_client.get("/api/v1/search/?brand=Leafy&brand=Volt")
    assert set(slugs(response.json())) == {"green-tea", "phone-charger"}


def test_price_range_filter_is_inclusive(shelf, search_api):
    assert set(slugs(search_api(min_price="4", max_price="25"))) == {"orange-juice", "green-tea", "apple-phone-case"}


def test_min_rating_filter(shelf, search_api):
    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(rating=Decimal("4.5"))
    assert slugs(search_api(min_rating="4")) == ["green-tea"]


def test_seller_filter_takes_the_seller_slug(shelf, search_api):
    seller = shelf["green-tea"].seller
    assert slugs(search_api(seller=seller.slug)) == ["green-tea"]
    assert slugs(search_api(seller=SellerFactory().slug)) == []


def test_in_stock_filter_leaves_out_sold_out_products(shelf, search_api):
    body = search_api(category="food/drinks/juice", in_stock="1")
    assert slugs(body) == ["apple-juice"]
    assert search_api(q="orange")["results"][0]["in_stock"] is False


# --- sorts and pages ---------------------------------------------------------------------------


def test_sort_by_price_both_ways(shelf, search_api):
    ascending = slugs(search_api(sort="price_asc"))
    assert ascending == ["apple-juice", "orange-juice", "green-tea", "apple-phone-case", "phone-charger"]
    assert slugs(search_api(sort="price_desc")) == ascending[::-1]


def test_sort_newest_first(shelf, search_api):
    from django.utils import timezone

    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(
        created_at=timezone.now() + timezone.timedelta(hours=1)
    )
    assert slugs(search_api(sort="newest"))[0] == "green-tea"


def test_sort_by_rating(shelf, search_api):
    SearchDocument.objects.filter(product_id=shelf["phone-charger"].pk).update(rating=Decimal("4.8"))
    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(rating=Decimal("3.1"))
    assert slugs(search_api(sort="rating"))[:2] == ["phone-charger", "green-tea"]


def test_pages_split_the_results_and_count_them_all(shelf, search_api):
    first = search_api(sort="price_asc", page_size=2)
    third = search_api(sort="price_asc", page_size=2, page=3)
    assert first["count"] == third["count"] == 5
    assert slugs(first) == ["apple-juice", "orange-juice"]
    assert slugs(third) == ["phone-charger"]


def test_huge_result_sets_get_a_capped_count_and_approximate_facets(shelf, search_api, monkeypatch):
    from search.backends import postgres

    monkeypatch.setattr(postgres, "COUNT_CAP", 3)
    monkeypatch.setattr(postgres, "FACET_SAMPLE", 2)
    body = search_api()
    assert (body["count"], body["count_is_capped"], body["facets_approximate"]) == (3, True, True)
    assert sum(facet["count"] for facet in body["facets"]["category"]) == 2


# --- facets ------------------------------------------------------------------------------------


def _facet(body: dict, name: str) -> dict:
    return {entry["value"]: entry["count"] for entry in body["facets"][name]}


def test_facets_count_the_matches(shelf, search_api):
    body = search_api(q="juice")
    assert _facet(body, "brand") == {"Orchard": 2, "Volt": 1}
    assert _facet(body, "category") == {"food": 2, "electronics": 1}
    assert body["facets"]["category"][0]["name"] == "Food"
    prices = {(p["min"], p["max"]): p["count"] for p in body["facets"]["price"]}
    assert prices == {("0.00", "10.00"): 2, ("100.00", "250.00"): 1}
    assert body["facets_approximate"] is False


def test_category_facet_names_come_from_a_copy_that_lasts_a_minute(shelf, search_api, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.models import Category
    from search.backends import postgres

    search_api(q="juice")
    Category.objects.filter(path="food").update(name="Groceries")
    with CaptureQueriesContext(connection) as queries:
        body = search_api(q="juice")
    assert not [query for query in queries if "catalog_category" in query["sql"]]
    assert body["facets"]["category"][0]["name"] == "Food"  # the copy, until it is a minute old
    monkeypatch.setattr(postgres, "CATEGORY_NAMES_TTL", -1)
    assert search_api(q="juice")["facets"]["category"][0]["name"] == "Groceries"


def test_facets_of_a_base_that_can_match_nothing_are_empty(shelf):
    from search.backends.base import Facets, SearchQuery
    from search.backends.postgres import PostgresBackend

    facets = PostgresBackend()._facets(SearchQuery(q=""), SearchDocument.objects.none(), {})
    assert facets == (Facets(), 0)


def test_brand_facet_ignores_its_own_filter_but_applies_the_others(shelf, api_client):
    body = api_client.get("/api/v1/search/?category=food&brand=Leafy").json()
    assert slugs(body) == ["green-tea"]
    assert _facet(body, "brand") == {"Orchard": 2, "Leafy": 1}  # other brands stay choosable
    assert [(p["min"], p["count"]) for p in body["facets"]["price"]] == [("0.00", 1)]  # Leafy's, in food


def test_price_facet_ignores_the_price_filter(shelf, search_api):
    body = search_api(category="food", max_price="5")
    assert set(slugs(body)) == {"apple-juice", "orange-juice"}
    assert sum(p["count"] for p in body["facets"]["price"]) == 3


def test_category_facet_lists_children_of_the_chosen_category(shelf, search_api):
    body = search_api(category="food")
    assert _facet(body, "category") == {"food/drinks": 3}
    assert _facet(search_api(category="food/drinks"), "category") == {"food/drinks/juice": 2}


def test_rating_facet_counts_products_at_or_above_each_step(shelf, search_api):
    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(rating=Decimal("4.5"))
    SearchDocument.objects.filter(product_id=shelf["apple-juice"].pk).update(rating=Decimal("3.2"))
    body = search_api(min_rating="4")
    assert {r["min"]: r["count"] for r in body["facets"]["rating"]} == {4: 1, 3: 2, 2: 2, 1: 2}


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "-1"}, "min_price"),
        ({"max_price": "cheap"}, "max_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"min_price": "1e400"}, "min_price"),
        ({"min_price": "20", "max_price": "10"}, "max_price"),
        ({"min_rating": "6"}, "min_rating"),
        ({"sort": "cheapest"}, "sort"),
        ({"page": str(10**9)}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1000"}, "page_size"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"q": "x" * 10_240}, "q"),
        ({"q": "apple\x00"}, "q"),
    ],
)
def test_bad_parameters_get_400_in_the_api_error_format(shelf, api_client, params, field):
    response = api_client.get("/api/v1/search/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid"
    assert field in body["fields"]


@pytest.mark.parametrize(
    "q", ['"', '"apple', "-", "apple -", "or", "!!!", "apple | juice", "a:*", "(", "'", "\\", "-apple juice", "ünïcödé"]
)
def test_query_syntax_oddities_never_fail(shelf, search_api, q):
    search_api(q=q)


# --- autocomplete ------------------------------------------------------------------------------


def test_suggest_completes_words_titles_brands_and_categories(shelf, api_client):
    suggestions = api_client.get("/api/v1/search/suggest/", {"q": "app"}).json()["suggestions"]
    assert "apple" in suggestions
    assert "Apple Juice" in suggestions
    assert "Orchard" in api_client.get("/api/v1/search/suggest/", {"q": "orch"}).json()["suggestions"]
    assert "Drinks" in api_client.get("/api/v1/search/suggest/", {"q": "dri"}).json()["suggestions"]
    assert "green tea" in api_client.get("/api/v1/search/suggest/", {"q": "green t"}).json()["suggestions"]


def test_suggest_offers_popular_queries_first(shelf, api_client, search_api):
    for _ in range(3):
        search_api(q="apple juice")
    search_api(q="aple juce")  # recorded as what was searched: the correction
    suggestions = api_client.get("/api/v1/search/suggest/", {"q": "ap"}).json()["suggestions"]
    assert suggestions[0] == "apple juice"


@pytest.mark.django_db(transaction=True)
def test_a_popular_query_is_counted_by_one_statement_that_relaxes_only_its_own_commit(
    django_assert_num_queries,
):
    from django.db import connection

    from search.models import PopularQuery

    with django_assert_num_queries(1) as captured:
        services.popular_query_record(query="  Apple   JUICE ")
    assert "set_config('synchronous_commit', 'off', true)" in captured.captured_queries[0]["sql"]
    services.popular_query_record(query="apple juice")
    assert PopularQuery.objects.get(query="apple juice").count == 2
    with connection.cursor() as cursor:  # the next transaction waits for the flush again
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_suggest_for_nothing_is_empty_and_too_long_is_400(shelf, api_client):
    assert api_client.get("/api/v1/search/suggest/").json() == {"suggestions": []}
    assert api_client.get("/api/v1/search/suggest/", {"q": "x" * 10_240}).status_code == 400

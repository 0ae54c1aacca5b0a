"""The index follows the catalogue through outbox events, and the full rebuild agrees with them."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from catalog import services as catalog_services
from catalog.models import Product
from inventory import services as inventory_services
from search import services
from search.models import SearchDocument, SearchTerm
from search.tests.conftest import slugs
from search.tests.factories import category, listed_product
from sellers import services as seller_services
from sellers.models import Seller
from sellers.tests.factories import SellerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("search.tests.urls")]


def test_new_product_is_searchable_once_its_event_is_relayed(search_api, django_capture_on_commit_callbacks):
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        product = catalog_services.product_create(
            seller=seller,
            title="Sparkling Elderflower Lemonade",
            category=category("food/drinks"),
            brand_name="Fizzwell",
            variants=[catalog_services.VariantInput(sku="ELDER-1", price=Decimal("2.90"))],
        )
    body = search_api(q="elderfl")
    assert slugs(body) == [product.slug]
    assert body["results"][0]["price"] == "2.90"
    # its new words joined the vocabulary, so they can be corrected to as well
    assert search_api(q="eldreflower")["suggestion"] == "elderflower"


def test_draft_is_not_indexed_until_it_is_published(search_api, django_capture_on_commit_callbacks):
    seller = SellerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        product = catalog_services.product_create(
            seller=seller,
            title="Quince Jelly",
            category=category("food"),
            status=Product.Status.DRAFT,
            variants=[catalog_services.VariantInput(sku="QUINCE-1", price=Decimal("5"))],
        )
    assert slugs(search_api(q="quince")) == []
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_update(product=product, status=Product.Status.ACTIVE)
    assert slugs(search_api(q="quince")) == [product.slug]


def test_changed_title_is_searched_by_its_new_words(shelf, search_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_update(product=shelf["green-tea"], title="Jasmine Tea")
    assert slugs(search_api(q="jasmine")) == ["green-tea"]
    assert slugs(search_api(q="green")) == []


def test_archived_product_leaves_the_index(shelf, search_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_archive(product=shelf["apple-juice"])
    assert "apple-juice" not in slugs(search_api(q="apple"))
    assert not SearchDocument.objects.filter(product_id=shelf["apple-juice"].pk).exists()


def test_suspended_sellers_products_leave_the_index_and_return_on_reinstatement(
    shelf, search_api, django_capture_on_commit_callbacks
):
    seller = shelf["green-tea"].seller
    with django_capture_on_commit_callbacks(execute=True):
        seller_services.seller_set_status(seller=seller, status=Seller.Status.SUSPENDED)
    assert slugs(search_api(q="tea")) == []
    with django_capture_on_commit_callbacks(execute=True):
        seller_services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)
    assert slugs(search_api(q="tea")) == ["green-tea"]


def test_stock_change_updates_in_stock(shelf, search_api, django_capture_on_commit_callbacks):
    variant = shelf["orange-juice"].variants.get()
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_set(variant=variant, on_hand=7)
    assert search_api(q="orange")["results"][0]["in_stock"] is True
    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.stock_set(variant=variant, on_hand=0)
    assert search_api(q="orange")["results"][0]["in_stock"] is False


def test_rebuild_all_drops_documents_of_unlisted_products_and_recounts_the_vocabulary(shelf):
    Product.objects.filter(pk=shelf["green-tea"].pk).update(status=Product.Status.ARCHIVED)  # no event
    listed_product("Apple Cider", category_path="food/drinks")
    assert services.documents_rebuild_all() == 5
    assert not SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).exists()
    assert SearchTerm.objects.get(term="apple").frequency == 3
    assert not SearchTerm.objects.filter(term="green").exists()


def test_rebuilding_writes_only_the_documents_that_change(shelf):
    """A rebuild (a seller's status event, a reindex) leaves an unchanged document where it is: no
    new row version, so no dead row and no index entries for it."""
    from django.db import connection

    def row_addresses() -> dict[int, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT product_id, ctid::text FROM search_searchdocument")
            return dict(cursor.fetchall())

    before = row_addresses()
    Product.objects.filter(pk=shelf["green-tea"].pk).update(title="Green Tea Deluxe")  # no event
    assert services.documents_rebuild_all() == len(before)
    after = row_addresses()
    assert {product_id for product_id in before if before[product_id] != after[product_id]} == {shelf["green-tea"].pk}
    assert SearchDocument.objects.get(product_id=shelf["green-tea"].pk).title == "Green Tea Deluxe"


def test_rebuild_all_leaves_the_names_index_written_without_a_pending_list(shelf):
    from django.contrib.postgres.search import SearchQuery
    from django.db import connection

    services.documents_rebuild_all()
    assert _names_index_options(connection) == ["fastupdate=off"]
    apple = SearchQuery("apple", config="simple")
    assert SearchDocument.objects.filter(names=apple).count() == 2  # the stored names: title words


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_that_cannot_lock_the_names_index_goes_on_without_its_pending_list(monkeypatch, caplog):
    """Another session reading the table holds the index: the setting is left alone after the lock
    timeout (searches are not queued behind the change), and the rebuild still completes."""
    import psycopg
    from django.db import connection

    listed_product("Apple Juice", category_path="food/drinks")
    monkeypatch.setattr(services, "NAMES_INDEX_LOCK_TIMEOUT", "100ms")
    settings_dict = connection.get_connection_params()
    with psycopg.connect(**settings_dict) as reader:  # its own connection, its own transaction
        reader.execute("SELECT count(*) FROM search_searchdocument").fetchone()
        assert services.documents_rebuild_all() == 1
    assert "names index fastupdate left as it was (wanted True)" in caplog.text
    assert _names_index_options(connection) == ["fastupdate=off"]


def _names_index_options(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'search_doc_names_gin'")
        return cursor.fetchone()[0]


def test_rebuild_keeps_ratings_and_sales_figures(shelf):
    SearchDocument.objects.filter(product_id=shelf["green-tea"].pk).update(rating=Decimal("4.2"), sales_velocity=3)
    services.document_rebuild(product_id=shelf["green-tea"].pk)
    services.documents_rebuild_all()
    document = SearchDocument.objects.get(product_id=shelf["green-tea"].pk)
    assert (document.rating, document.sales_velocity) == (Decimal("4.2"), 3)


def test_document_weights_title_above_brand_category_attributes_and_description(db):
    product = listed_product(
        "Trail Boot",
        category_path="shoes",
        brand="Summit",
        description="Waterproof leather.",
        attributes={"material": "suede"},
    )
    services.document_rebuild(product_id=product.pk)
    document = SearchDocument.objects.values_list("document", flat=True).get(product_id=product.pk)
    weights = {entry.split(":")[0].strip("'"): entry.split(":")[1] for entry in document.split(" ")}
    # D, the lowest weight, is the default and not written out
    assert {word: weights[word][-1] for word in ("trail", "summit", "shoes", "suede", "waterproof")} == {
        "trail": "A",
        "summit": "B",
        "shoes": "B",
        "suede": "C",
        "waterproof": "6",
    }


def test_search_reindex_command_reports_progress(shelf):
    out = StringIO()
    call_command("search_reindex", stdout=out)
    assert "5 products indexed" in out.getvalue()
    assert "terms" in out.getvalue()

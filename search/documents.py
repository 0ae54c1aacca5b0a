"""The Elasticsearch index of the search app (``SEARCH_BACKEND=elasticsearch``), declared with
django-elasticsearch-dsl.

``ProductDocument`` holds the fields of ``search.SearchDocument`` (the index is loaded from that table,
so both backends show the same products), plus the text PostgreSQL keeps only inside its tsvector
(category names, attribute values, description) and two fields of its own: an n-gram sub-field of
the title for typos and a completion field for autocomplete.

The document is registered with django-elasticsearch-dsl's registry, so its ``search_index`` command
and ``Document.search()`` know it, but it is never synced by model signals
(``ELASTICSEARCH_DSL_AUTOSYNC = False``): the outbox handlers enqueue ``search.tasks`` instead, and the
documents are written to a timestamped index behind the alias ``INDEX_ALIAS`` (see
``search.backends.elasticsearch``). Importing this module needs the package, not the app in
``INSTALLED_APPS``.
"""

from __future__ import annotations

from django.conf import settings
from django_elasticsearch_dsl import Document, Index, fields
from django_elasticsearch_dsl.registries import registry
from elasticsearch.dsl import analyzer, tokenizer

from search.models import SearchDocument

# The name searches use: an alias, swapped atomically to a fresh index by ``search_reindex``.
INDEX_ALIAS = getattr(settings, "SEARCH_ELASTICSEARCH_INDEX", "shop-products")

# Lower-cased, accents folded: "Crème" is found by "creme".
folding = analyzer("folding", tokenizer="standard", filter=["lowercase", "asciifolding"])
# Trigrams of each word: a misspelt word still shares most of its trigrams with the right one
# ("aple" and "apple" share "ple"), which the fuzzy match alone misses for two edits in short words.
title_trigrams = analyzer(
    "title_trigrams",
    tokenizer=tokenizer("title_trigram_tokenizer", "ngram", min_gram=3, max_gram=3, token_chars=["letter", "digit"]),
    filter=["lowercase", "asciifolding"],
)

products_index = Index(INDEX_ALIAS)
products_index.settings(
    number_of_shards=1,  # a catalogue of millions fits one shard; more shards only split the scores
    number_of_replicas=getattr(settings, "SEARCH_ELASTICSEARCH_REPLICAS", 1),
    refresh_interval="1s",  # a product change is searchable within about a second of its task
    max_result_window=10_000,  # the default, said out loud: deep pages are capped before this
)


@registry.register_document
@products_index.document
class ProductDocument(Document):
    product_id = fields.LongField()
    slug = fields.KeywordField()
    seller_id = fields.LongField()
    category_id = fields.LongField()
    category_path = fields.KeywordField()
    # The category's path and every ancestor's ("food", "food/drinks", ...): "this category and its
    # descendants" is one term lookup, and the category facet counts the level below the chosen one.
    category_lineage = fields.KeywordField(multi=True)
    category_names = fields.TextField(analyzer=folding)  # the whole lineage's names, like PostgreSQL's B part
    brand = fields.KeywordField(fields={"text": fields.TextField(analyzer=folding)})
    title = fields.TextField(
        analyzer=folding,
        fields={
            "ngram": fields.TextField(analyzer=title_trigrams),
            "raw": fields.KeywordField(ignore_above=256),
        },
    )
    attributes = fields.TextField(analyzer=folding)
    description = fields.TextField(analyzer=folding)
    # What "did you mean" corrects to: the words of titles, brands and categories (not descriptions,
    # whose boilerplate would outvote the product words).
    spelling = fields.TextField(analyzer=folding)
    suggest = fields.CompletionField(analyzer="simple", preserve_separators=True, max_input_length=100)
    # Decimals travel as strings ("3.50") and come back exactly from _source; scaled_float indexes cents.
    price = fields.ScaledFloatField(scaling_factor=100)
    currency = fields.KeywordField()
    in_stock = fields.BooleanField()
    image = fields.ObjectField(enabled=False)  # shown, never searched
    rating = fields.ScaledFloatField(scaling_factor=100)
    rating_count = fields.IntegerField()
    seller_rating = fields.ScaledFloatField(scaling_factor=100)
    sales_velocity = fields.FloatField()
    views = fields.IntegerField()
    sponsored_from = fields.DateField()
    sponsored_until = fields.DateField()
    created_at = fields.DateField()
    updated_at = fields.DateField()

    class Django:
        model = SearchDocument
        queryset_pagination = 2_000

"""An index on the popularity part of the relevance score (search.backends.postgres.popularity_sql with
DEFAULT_RANKING's weights, written out here as it was then): huge result sets and browsing without a
query are ranked along it. ``test_popularity_index_matches_the_ranking_expression`` keeps the two in step."""

from django.db import migrations

POPULARITY = (
    "(1::float8 + 0.3::float8 * ln(1::float8 + greatest(sales_velocity, 0::float8))"
    " + 0.05::float8 * ln(1::float8 + views::float8)"
    " + 0.3::float8 * rating::float8 / 5::float8"
    " + 0.1::float8 * seller_rating::float8 / 5::float8)"
)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_ratings")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX search_doc_popularity_idx ON search_searchdocument ({POPULARITY} DESC, product_id DESC)",
            "DROP INDEX search_doc_popularity_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX search_doc_sponsored_idx ON search_searchdocument (sponsored_until)"
            " WHERE sponsored_until IS NOT NULL",
            "DROP INDEX search_doc_sponsored_idx",
        ),
    ]

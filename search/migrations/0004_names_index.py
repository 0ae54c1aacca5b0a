"""The names index (search.backends.postgres.NAMES): the title, brand and category words of each
document. Built concurrently: the catalogue keeps being indexed while it builds (about 10 s per
million documents)."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("search", "0003_popularity_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="searchdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                models.Func(
                    models.F("document"),
                    models.Value("{a,b}"),
                    function="ts_filter",
                    output_field=django.contrib.postgres.search.SearchVectorField(),
                ),
                name="search_doc_names_gin",
            ),
        ),
    ]

"""The names (search.models.SearchDocument.names) stored in a column of their own, generated from the
document, and indexed in place of the expression index of 0004: a row is then checked against its
names without filtering its document again.

Adding a stored generated column rewrites the table and its indexes under an exclusive lock: searches
and indexing wait for it (about a minute per million documents here), so run it in a maintenance
window on a big catalogue. Then, until the new index is built (concurrently, about 15 s per million),
a word being typed is matched without an index. The index is written at once, without a pending list
that every search would scan until the next vacuum (``fastupdate`` off)."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # (DROP|CREATE) INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("search", "0004_names_index"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="searchdocument", name="search_doc_names_gin"),
        migrations.AddField(
            model_name="searchdocument",
            name="names",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("document"),
                    models.Value("{a,b}"),
                    function="ts_filter",
                    output_field=django.contrib.postgres.search.SearchVectorField(),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        AddIndexConcurrently(
            model_name="searchdocument",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False, fields=["names"], name="search_doc_names_gin"
            ),
        ),
    ]

"""``manage.py search_reindex``: rebuild the search index and its vocabulary from the catalogue.

``--backend elasticsearch`` then loads a new timestamped Elasticsearch index from the rebuilt table
and swaps the alias to it (no downtime: searches answer from the old index until the swap).
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from search import services
from search.backends import BACKENDS


class Command(BaseCommand):
    help = "Rebuild every search document and the typo-correction vocabulary from the catalogue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--backend",
            choices=sorted(BACKENDS),
            default=None,
            help="The index to rebuild (default: SEARCH_BACKEND). The PostgreSQL documents are rebuilt "
            "either way: they are the source of the Elasticsearch index.",
        )

    def handle(self, *args, backend: str | None, **options) -> None:
        backend = backend or getattr(settings, "SEARCH_BACKEND", "postgres")

        def report(message: str) -> None:
            self.stdout.write(message)

        count = services.documents_rebuild_all(progress=report)
        self.stdout.write(self.style.SUCCESS(f"{count:,} products indexed"))
        if backend == "elasticsearch":
            from search.backends import elasticsearch

            name = elasticsearch.index_rebuild(progress=report)
            self.stdout.write(self.style.SUCCESS(f"Elasticsearch index {name} is live"))

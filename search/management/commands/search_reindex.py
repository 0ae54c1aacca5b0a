"""``manage.py search_reindex``: rebuild the search index and its vocabulary from the catalogue."""

from django.core.management.base import BaseCommand

from search import services


class Command(BaseCommand):
    help = "Rebuild every search document and the typo-correction vocabulary from the catalogue."

    def handle(self, *args, **options) -> None:
        count = services.documents_rebuild_all(progress=lambda message: self.stdout.write(message))
        self.stdout.write(self.style.SUCCESS(f"{count:,} products indexed"))

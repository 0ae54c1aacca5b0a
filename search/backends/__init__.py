"""Search backends: one interface (``base.SearchBackend``), chosen by the ``SEARCH_BACKEND`` setting."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from search.backends.base import SearchBackend

BACKENDS = {
    "postgres": "search.backends.postgres.PostgresBackend",
    "elasticsearch": "search.backends.elasticsearch.ElasticsearchBackend",
}


@cache
def _backend(name: str) -> SearchBackend:
    if name not in BACKENDS:
        raise LookupError(f"SEARCH_BACKEND={name!r} is not one of {sorted(BACKENDS)}")
    return import_string(BACKENDS[name])()


def get_backend() -> SearchBackend:
    return _backend(getattr(settings, "SEARCH_BACKEND", "postgres"))

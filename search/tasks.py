"""Celery tasks of the search app: the Elasticsearch index follows the ``SearchDocument`` table.

The outbox handlers (``search.handlers``) update the table in their transaction and, when
``SEARCH_BACKEND=elasticsearch``, enqueue ``elasticsearch_documents_sync_task`` after commit. The
task re-reads the table, so a late or repeated task writes the current state, never a stale one.
"""

from __future__ import annotations

from celery import shared_task

# The client's connection and timeout errors (elastic_transport.TransportError): the cluster is
# briefly away; anything else (a mapping error) is a bug that retrying does not fix.
try:
    from elastic_transport import TransportError as _Unavailable
except ImportError:  # the package is installed only where the Elasticsearch backend is used
    _Unavailable = ConnectionError  # type: ignore[assignment,misc]


@shared_task(autoretry_for=(_Unavailable,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def elasticsearch_documents_sync_task(product_ids: list[int]) -> None:
    from search.backends import elasticsearch

    elasticsearch.documents_sync(product_ids=product_ids)

"""This process's copies of product pages, served without asking Redis while Redis announces no change
(storefront.tracking): a real listener thread on the test Redis, writes made through other
connections the way other processes make them, and bounded waits for Redis's messages to arrive."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction

from catalog import events as catalog_events
from catalog.models import Product
from inventory import services as inventory
from shop.core.events import publish
from storefront import selectors, tracking, versions
from storefront.tests.conftest import make_product

pytestmark = pytest.mark.django_db

WAIT = 5.0  # seconds a message from Redis may take here, at most, before a test gives up


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT:.0f} s: {what}")
        time.sleep(0.01)


@pytest.fixture
def other_process():
    """A connection of its own to the cache's Redis, as another web or Celery process has."""
    location = django_settings.CACHES["default"]["LOCATION"]
    client = redis.Redis.from_url(location)
    yield client
    client.close()


@pytest.fixture
def listener(settings):
    settings.STOREFRONT_PAGE_TRACKING = True
    versions.clear_local_copies()
    current = versions.tracker(selectors.STOCK_KEY_PREFIX)
    _wait_until(lambda: current.mark() is not None, "the listener is subscribed")
    yield current
    versions.stop_tracking()
    versions.clear_local_copies()


@pytest.fixture
def product(tree):
    return make_product(category=tree["smartphones"], title="Phone X", images=1, stock=10)


@pytest.fixture
def redis_reads(monkeypatch):
    """The commands this process sends Redis through redis-py's clients, as Redis receives them
    (the listener's own connection is not one of those)."""
    calls: list[str] = []
    real = redis.Redis.execute_command

    def execute_command(self, *args, **options):
        calls.append(str(args[0]))
        return real(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    return calls


def _page(client, product: Product) -> str:
    response = client.get(f"/p/{product.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def _settle(listener: tracking.Tracker, other_process: redis.Redis) -> None:
    """Wait for every message Redis has sent the listener so far (it sends them in order)."""
    key = cache.make_key("sf:v:test-settle")
    before = listener.mark()
    other_process.incr(key)
    _wait_until(lambda: not listener.unchanged_since([key], before), "the listener has caught up")


def _warm(client, product: Product, listener: tracking.Tracker, other_process: redis.Redis) -> None:
    """Built (which writes its stock figure to the cache), then, once that write's message is in,
    read once more: from then on the copy is vouched for."""
    _page(client, product)
    _settle(listener, other_process)
    _page(client, product)


def test_a_warm_product_page_is_served_without_a_redis_round_trip(
    client, listener, product, other_process, redis_reads
):
    _warm(client, product, listener, other_process)
    redis_reads.clear()

    for _ in range(3):
        html = _page(client, product)
        assert "Phone X" in html
        assert "In stock" in html

    assert redis_reads == []


def test_each_visitor_still_gets_their_own_csrf_token_from_a_copy(client, listener, product, other_process):
    from django.test import Client

    _warm(client, product, listener, other_process)
    tokens = {
        Client().get(f"/p/{product.slug}/").content.decode().split('name="csrfmiddlewaretoken" value="')[1][:64]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_a_version_bumped_by_another_process_reaches_the_page(client, listener, product, other_process):
    _warm(client, product, listener, other_process)
    Product.objects.filter(pk=product.pk).update(title="Phone X2")  # the edit; its event is delivered elsewhere
    assert "Phone X2" not in _page(client, product)

    other_process.incr(cache.make_key(f"sf:v:{versions.product_scope(product.slug)}"))

    _wait_until(lambda: "Phone X2" in _page(client, product), "the new title is on the page")


def test_a_version_bumped_in_this_process_shows_at_once(
    client, listener, product, other_process, django_capture_on_commit_callbacks, monkeypatch
):
    _warm(client, product, listener, other_process)
    monkeypatch.setattr(listener, "_receive", lambda message, stop: None)  # Redis's messages go unheard from here
    Product.objects.filter(pk=product.pk).update(title="Phone X2")
    product.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(catalog_events.PRODUCT_UPDATED, catalog_events.product_payload(product))

    assert "Phone X2" in _page(client, product)  # this process noted its own write


def test_stock_changed_by_another_process_reaches_the_buy_box(client, listener, product, other_process):
    _warm(client, product, listener, other_process)
    variant = product.variants.get()

    other_process.set(cache.make_key(inventory.availability_key(variant.pk)), 2)

    _wait_until(lambda: "Only 2 left" in _page(client, product), "the new stock is on the page")


def test_after_a_broken_connection_no_copy_read_before_it_is_trusted(
    client, listener, product, other_process, redis_reads
):
    _warm(client, product, listener, other_process)
    old_id = listener.client_id

    other_process.client_kill_filter(_id=old_id)  # what went unannounced while it was down is unknown

    _wait_until(lambda: listener.listening() and listener.client_id != old_id, "the listener is back")
    redis_reads.clear()
    _page(client, product)
    assert len(redis_reads) == 1  # checked with Redis once...
    redis_reads.clear()
    _page(client, product)
    assert redis_reads == []  # ...and vouched for again from then on


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:1/0", "redis://127.0.0.1:5432/0"],
    ids=["nothing listens", "not a Redis server"],
)
def test_without_a_listening_connection_nothing_is_vouched_for(url):
    nowhere = tracking.Tracker(url, ["sf:v:"], connect_timeout=0.2)
    try:
        nowhere.mark()  # starts the thread
        _wait_until(lambda: nowhere.failures >= 2, "two attempts have failed")
        assert nowhere.mark() is None
        assert not nowhere.unchanged_since([], 10**9)
        assert not nowhere.listening()
    finally:
        nowhere.stop()


def test_a_flushed_cache_trusts_no_copy(client, listener, product, other_process):
    _warm(client, product, listener, other_process)
    Product.objects.filter(pk=product.pk).update(title="Phone X2")
    mark = listener.mark()

    other_process.flushdb()

    _wait_until(lambda: not listener.unchanged_since([], mark), "the flush is announced")
    assert "Phone X2" in _page(client, product)
    assert listener.listening()


def test_only_the_keys_written_after_the_read_began_lose_their_trust(listener, other_process):
    key, other = cache.make_key("sf:v:t-one"), cache.make_key("sf:v:t-two")
    before = listener.mark()

    other_process.set(key, 1)
    _wait_until(lambda: not listener.unchanged_since([key], before), "the write is announced")

    assert listener.unchanged_since([other], before)
    assert listener.unchanged_since([key], listener.mark())  # a read after the write is current


def test_keys_outside_the_tracked_prefixes_are_never_vouched_for(listener):
    assert listener.covers(cache.make_key("sf:v:p:phone"))
    assert listener.covers(cache.make_key(inventory.availability_key(7)))
    assert not listener.covers(cache.make_key("sf:e:page:abc"))
    assert not listener.covers(cache.make_key("cart:guest:1"))


def test_past_its_memory_of_invalidated_keys_the_listener_trusts_no_older_read(listener, monkeypatch):
    monkeypatch.setattr(tracking, "MAX_REMEMBERED", 3)
    before = listener.mark()

    listener.note_written(cache.make_key(f"sf:v:t-{n}") for n in range(4))

    assert not listener.unchanged_since([cache.make_key("sf:v:untouched")], before)
    assert listener.unchanged_since([cache.make_key("sf:v:untouched")], listener.mark())


def test_with_tracking_off_every_warm_page_asks_redis(client, settings, product, redis_reads):
    settings.STOREFRONT_PAGE_TRACKING = False
    _page(client, product)
    _page(client, product)
    redis_reads.clear()

    _page(client, product)

    assert len(redis_reads) == 1


def test_copies_are_bounded_by_their_weight(monkeypatch):
    lru = versions._LocalLRU(size=100)
    lru.put("a", "A", weight=60)
    lru.put("b", "B", weight=30)
    lru.get("a")  # used last: b goes first
    lru.put("c", "C", weight=30)

    assert lru.get("b") is None
    assert (lru.get("a"), lru.get("c")) == ("A", "C")
    assert lru._weight == 90

    lru.update("c", "C2", expected="C")
    lru.update("c", "C3", expected="C")  # another thread got there first: left alone
    assert lru.get("c") == "C2"
    assert lru._weight == 90

    lru.put("short", "S", timeout=0, weight=10)
    assert lru.get("short") is None  # past its deadline
    assert lru._weight == 90

    lru.put("huge", "H", weight=500)  # more than the whole bound: nothing stays
    assert lru.get("huge") is None
    assert lru._weight == 0


def test_a_cache_read_from_replicas_is_never_vouched_for(settings):
    settings.STOREFRONT_PAGE_TRACKING = True
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0"]}
    }

    assert versions.tracker(selectors.STOCK_KEY_PREFIX) is None


def test_a_forked_process_trusts_nothing_it_inherited(listener):
    import os

    mark = listener.mark()
    assert listener.unchanged_since([], mark)
    parent_lock = id(listener._lock)

    child = os.fork()
    if child == 0:  # the child: no thread of its own yet, a lock of its own, and no trust
        trusted = listener.unchanged_since([], mark)
        os._exit(0 if not trusted and id(listener._lock) != parent_lock else 1)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert listener.unchanged_since([], mark)  # the parent goes on as before

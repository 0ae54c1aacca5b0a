"""Search benchmarks: the search API and autocomplete under load, and how soon a new product is found.

    DATABASE_URL=postgres://…/shop_bench REDIS_URL=redis://…/13 .venv/bin/python bench/search.py

Runs against the catalogue already in the database named by DATABASE_URL (seed it first:
`manage.py seed_demo --products 1000000`, which also builds the search index). Three parts:

1. Load. gunicorn with production settings serves `GET /api/v1/search/` over a mix of real queries
   made from the catalogue: single words (category and brand names, title adjectives), several words,
   misspellings, prefixes being typed, and the same with filters (category, brand, price, rating, in
   stock) and sorts. Every search computes its facets. Measured with one client (wrk, one connection:
   p95 target < 100 ms) and with 16 connections (throughput and p95); then `GET
   /api/v1/search/suggest/` over prefixes of 1 to 12 characters (p95 target < 30 ms).
2. Freshness. A real Celery worker process is started (`celery -A shop worker`, the broker of
   REDIS_URL); a product is created through the seller service
   (backoffice.services.seller_product_create: catalog event in the outbox → Celery → search handler
   → index) and the clock runs from the commit until a search for its unique title word returns it.
   Repeated ``--freshness-runs`` times: p50, p95, max (target < 2 s). The probe products are archived
   afterwards (they leave the index through the same path).

Figures go to BENCHMARKS.md (sections "search" and "search-freshness") with the command.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shlex
import signal
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from common import (
    PYTHON,
    ROOT,
    Server,
    django_setup,
    environment_prefix,
    production_env,
    record,
    table,
    warm,
    wrk,
)

FRESHNESS_TARGET_S = 2.0
POLL_INTERVAL_S = 0.01


def _misspell(word: str, rng: random.Random) -> str:
    """A typo a buyer makes: two neighbouring letters swapped, one dropped, or one doubled."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def query_mix(rng: random.Random, size: int = 3000) -> tuple[list[str], list[str], dict[str, int]]:
    """Search API paths over real words of the catalogue, and autocomplete paths; the mix's make-up."""
    from catalog.models import Brand, Category
    from search.models import SearchDocument

    leaves = list(Category.objects.filter(children__isnull=True).values_list("name", "path"))
    parents = list(Category.objects.filter(children__isnull=False).values_list("name", "path"))
    brands = list(Brand.objects.values_list("name", flat=True))
    titles = list(SearchDocument.objects.order_by("?").values_list("title", flat=True)[:2000])
    adjectives = sorted({title.split()[-3] for title in titles if len(title.split()) >= 4})
    nouns = [name.lower() for name, _ in leaves]
    words = [w for w in {w for n in nouns for w in n.split()} | {b.split()[0].lower() for b in brands} if len(w) >= 5]

    def single() -> str:
        return rng.choice([rng.choice(nouns), rng.choice(brands).lower(), rng.choice(adjectives).lower()])

    def multi() -> str:
        return rng.choice(
            [
                f"{rng.choice(brands).split()[0].lower()} {rng.choice(nouns)}",
                f"{rng.choice(adjectives).lower()} {rng.choice(nouns)}",
                f"{rng.choice(brands).lower()} {rng.choice(adjectives).lower()} {rng.choice(nouns)}",
            ]
        )

    def misspelt() -> str:
        return _misspell(rng.choice(words), rng)

    def prefix() -> str:
        word = rng.choice(words)
        return word[: rng.randint(3, len(word) - 1)]

    def filters() -> dict:
        params: dict = {}
        for name, maker in (
            ("category", lambda: rng.choice(parents + leaves)[1]),
            ("brand", lambda: rng.sample(brands, rng.randint(1, 3))),
            ("min_price", lambda: rng.choice([10, 25, 50])),
            ("max_price", lambda: rng.choice([100, 250, 500])),
            ("min_rating", lambda: rng.choice([3, 4])),
            ("in_stock", lambda: 1),
            ("sort", lambda: rng.choice(["price_asc", "price_desc", "rating", "newest"])),
        ):
            if rng.random() < 0.35:
                params[name] = maker()
        return params or {"in_stock": 1}

    kinds = {"single word": single, "several words": multi, "misspelt": misspelt, "prefix": prefix}
    shares = {"single word": 0.35, "several words": 0.25, "misspelt": 0.15, "prefix": 0.10}
    made: dict[str, int] = {}
    paths = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.15:
            kind, params = "filters only (browse)", filters()
        else:
            acc = 0.15
            kind = "prefix"
            for name, share in shares.items():
                acc += share
                if roll < acc:
                    kind = name
                    break
            params = {"q": kinds[kind]()}
            if rng.random() < 0.4:
                params |= filters()
                kind += " + filters"
        made[kind] = made.get(kind, 0) + 1
        paths.append("/api/v1/search/?" + urlencode(params, doseq=True))

    suggest = []
    for _ in range(size):
        source = rng.choice([rng.choice(nouns), rng.choice(brands).lower(), f"{rng.choice(brands).lower()} x"])
        text = source if not source.endswith(" x") else source[:-1] + rng.choice(nouns)
        suggest.append("/api/v1/search/suggest/?" + urlencode({"q": text[: rng.randint(1, min(12, len(text)))]}))
    return paths, suggest, made


def load(args: argparse.Namespace, rng: random.Random) -> tuple[list[tuple[str, dict]], dict[str, int]]:
    paths, suggest, made = query_mix(rng)
    runs = [
        ("search API, 1 connection", paths, 1),
        (f"search API, {args.connections} connections", paths, args.connections),
        ("autocomplete API, 1 connection", suggest, 1),
        (f"autocomplete API, {args.connections} connections", suggest, args.connections),
    ]
    results = []
    with Server(workers=args.workers) as server:
        # a few hundred requests first: workers' connections open, popular queries recorded and cached
        warm(server.base_url, paths[:300] + suggest[:300], concurrency=4)
        for name, run_paths, connections in runs:
            result = wrk(
                server.base_url,
                run_paths,
                connections=connections,
                seconds=args.seconds,
                threads=min(2, connections),
            )
            results.append((name, result))
            print(
                f"{name:40} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f}  p95 {result['p95_ms']:6.1f}  "
                f"p99 {result['p99_ms']:6.1f} ms  errors {result['errors'] + result['non_2xx']}",
                flush=True,
            )
    return results, made


def _probe_category():
    from catalog.models import Category

    for category in Category.objects.filter(children__isnull=True).order_by("path"):
        schema = category.attribute_schema if isinstance(category.attribute_schema, list) else []
        if not any(spec.get("required") for spec in schema if isinstance(spec, dict)):
            return category
    raise SystemExit("no leaf category without required attributes for the probe products")


def freshness(args: argparse.Namespace, rng: random.Random) -> list[float]:
    """Seconds from commit to searchable, one per probe product, with a real Celery worker running."""
    from django.db import transaction

    from backoffice.services import seller_product_create
    from catalog.services import product_archive
    from search.backends.base import SearchQuery
    from search.selectors import search_products
    from sellers.models import Seller
    from shop.core.models import OutboxEvent
    from shop.core.tasks import outbox_redeliver_task

    worker = subprocess.Popen(
        [str(Path(PYTHON).parent / "celery"), "-A", "shop", "worker", "--loglevel", "WARNING",
         "--concurrency", "2", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=production_env(), start_new_session=True,
    )  # fmt: skip
    seller = Seller.objects.filter(status=Seller.Status.APPROVED).order_by("pk").first()
    category = _probe_category()
    delays: list[float] = []
    probes = []
    try:
        # The worker first delivers what is pending (a bulk seed leaves its sellers' events behind,
        # each a rebuild of a whole range): probes are timed once the outbox is empty.
        # Events whose first delivery message went elsewhere (another broker database, or none) are
        # handed to the worker by the periodic re-delivery, as beat would.
        drain_started = kicked = time.monotonic()
        outbox_redeliver_task.delay()
        while OutboxEvent.objects.filter(delivered_at__isnull=True).exists():
            if time.monotonic() - drain_started > 900:
                raise SystemExit("the worker did not empty the outbox within 15 minutes")
            if time.monotonic() - kicked > 10:
                outbox_redeliver_task.delay()
                kicked = time.monotonic()
            time.sleep(1)
        time.sleep(2)
        for run in range(args.freshness_runs):
            # unique across runs (SKUs stay taken by the archived probes of earlier runs)
            token = "zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))
            data = {
                "title": f"Freshness probe {token}",
                "category": category.path,
                "description": "A product the search benchmark creates and archives again.",
                "variants": [{"sku": f"BENCH-{token}".upper(), "price": "19.99", "stock": 5}],
            }
            with transaction.atomic():
                product = seller_product_create(seller=seller, data=data, actor=None)
            committed = time.monotonic()  # the transaction has committed: the clock starts
            probes.append(product)
            while True:
                found = search_products(SearchQuery(q=token, page_size=5))
                if any(hit.product_id == product.pk for hit in found.results):
                    delays.append(time.monotonic() - committed)
                    break
                if time.monotonic() - committed > 30:
                    delays.append(float("inf"))
                    break
                time.sleep(POLL_INTERVAL_S)
            print(f"probe {run + 1}: searchable after {delays[-1] * 1000:.0f} ms", flush=True)
            time.sleep(rng.uniform(0.2, 0.6))  # not in lockstep with the worker's polling
        for product in probes:
            product_archive(product=product)
        time.sleep(2)  # the archive events reach the index before the worker stops
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    return delays


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 30)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 4)))
    parser.add_argument("--freshness-runs", type=int, default=20)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--note", default="", help="what else the machine was doing, for the record")
    parser.add_argument("--no-record", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    django_setup()
    from search.models import SearchDocument

    rng = random.Random(11)
    documents = SearchDocument.objects.count()
    load_before = os.getloadavg()[0]
    load_rows, made = ([], {}) if args.skip_load else load(args, rng)
    load_after_load = os.getloadavg()[0]
    delays = [] if args.skip_freshness else freshness(args, rng)
    load_after = os.getloadavg()[0]

    command = f"{environment_prefix()}.venv/bin/python bench/search.py {shlex.join(sys.argv[1:])}".rstrip()
    head = f"`{command}` — {documents:,} indexed products (PostgreSQL backend)."
    note = (
        f"\n\nMachine: {os.cpu_count()} cores shared with other work; 1-minute load average "
        f"{load_before:.1f} before the run, {load_after_load:.1f} after the load part, {load_after:.1f} at the end"
        + (f"; {args.note}" if args.note else "")
        + "."
    )
    if load_rows:
        mix = ", ".join(f"{kind} {n:,}" for kind, n in sorted(made.items(), key=lambda item: -item[1]))
        one, ac_one = load_rows[0][1], load_rows[2][1]
        body = (
            f"### Search and autocomplete under load\n\n{head} gunicorn with {args.workers} sync workers and "
            f"production settings; wrk for {args.seconds} s per row, on the same machine as the server and the "
            f"database, cycling through {sum(made.values()):,} searches made from the catalogue ({mix}; "
            "filters are category, 1-3 brands, price bounds, minimum rating, in stock and the four other "
            "sorts; every search computes its facets) and as many autocomplete prefixes of 1-12 characters."
            "\n\n" + table(load_rows) + f"\n\nSearch p95 with one client {one['p95_ms']:.1f} ms (target < 100 ms). "
            f"Autocomplete p95 with one client {ac_one['p95_ms']:.1f} ms (target < 30 ms).{note}"
        )
        print(body)
        if not args.no_record:
            record("search", body)
    if delays:
        finite = [d for d in delays if d != float("inf")] or [float("nan")]
        lost = len(delays) - len([d for d in delays if d != float("inf")])
        body = (
            f"### Search: commit to searchable\n\n{head} {len(delays)} products created one after another "
            "through the seller service (backoffice.services.seller_product_create), a real Celery worker "
            "process (2 processes) delivering the outbox events to the search handler; the clock runs from "
            f"the commit until a search for the product's unique word returns it (polled every "
            f"{POLL_INTERVAL_S * 1000:.0f} ms).\n\n"
            f"p50 {statistics.median(finite) * 1000:.0f} ms, p95 {percentile(finite, 0.95) * 1000:.0f} ms, "
            f"max {max(finite) * 1000:.0f} ms"
            + (f"; {lost} not found within 30 s" if lost else "")
            + f" (target < {FRESHNESS_TARGET_S:.0f} s).{note}"
        )
        print(body)
        if not args.no_record:
            record("search-freshness", body)


if __name__ == "__main__":
    sys.exit(main())

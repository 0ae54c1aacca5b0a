"""Reservations per second on one hot SKU: the database path and the flash-sale path (issue 5).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/reservations.py [--threads 16] [--seconds 8]

Runs in-process: ``--threads`` threads, each with its own database connection, call
``inventory.services.reservation_create`` for one unit of the same SKU in a loop for ``--seconds``.
Two scenarios per path:

- plenty: the SKU has far more units than the run can reserve: the throughput of the row lock, every
  call a reservation;
- sell-out: 200 units for everyone; after they are gone every call is a refusal. Through the
  database each refusal still queues for the row lock; through the flash sale it is answered by Redis.

It seeds a new SKU per run (a variant of any product) in the database DATABASE_URL names, which
must be migrated, and records the figures in BENCHMARKS.md ("reservations"). Stock events are published as in production
(outbox row + a Celery message on the broker); the messages it queued are purged at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import threading
import time
import uuid

from common import django_setup, record

SELL_OUT_UNITS = 200  # gone within the first seconds, so most of the run measures refusals


def run(*, sku: str, threads: int, seconds: float, tag: str) -> dict:
    from django.db import connection

    from inventory import services

    barrier = threading.Barrier(threads + 1)
    deadline = 0.0
    made = [0] * threads
    refused = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def buyer(index: int) -> None:
        try:
            barrier.wait()
            n = 0
            while time.monotonic() < deadline:
                n += 1
                started = time.perf_counter()
                try:
                    services.reservation_create(key=f"bench:{tag}:{index}:{n}", lines=[(sku, 1)])
                    made[index] += 1
                except (services.OutOfStock, services.FlashSaleUnavailable):
                    # FlashSaleUnavailable: the bucket vanished (another process flushed that Redis
                    # database) and was gone again right after its rebuild; counted as a refusal.
                    refused[index] += 1
                latencies[index].append(time.perf_counter() - started)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    if errors:
        raise errors[0]
    all_latencies = sorted(x for per_thread in latencies for x in per_thread)
    calls = len(all_latencies)
    return {
        "reservations": sum(made),
        "refusals": sum(refused),
        "reservations_per_s": sum(made) / elapsed,
        "calls_per_s": calls / elapsed,
        "p50_ms": statistics.median(all_latencies) * 1000 if calls else 0,
        "p95_ms": all_latencies[int(calls * 0.95)] * 1000 if calls else 0,
    }


def hot_sku(*, units: int, flash_sale: bool) -> str:
    """A new SKU with ``units`` on hand."""
    from decimal import Decimal

    from catalog.models import Product, Variant
    from inventory import services
    from inventory.models import Stock

    product = Product.objects.order_by("pk").first()  # any product will do: only its new variant is used
    if product is None:  # an empty database: a product from the factories (their sequences start afresh)
        from catalog.tests.factories import ProductFactory

        product = ProductFactory(title="Bench reservations", variants=0)
    sku = f"BENCH-{uuid.uuid4().hex[:10].upper()}"
    variant = Variant.objects.create(product=product, sku=sku, price=Decimal("9.99"))
    Stock.objects.create(variant=variant, sku=sku, on_hand=units)
    if flash_sale:
        services.flash_sale_open(sku=sku)
    return sku


def check(sku: str, made: int) -> None:
    """The run's own audit: the database holds exactly what the buyers were told they got."""
    from inventory.models import Stock

    stock = Stock.objects.get(sku=sku)
    if stock.reserved != made or stock.available < 0:
        raise SystemExit(f"{sku}: {stock.reserved} units reserved in the database, {made} reservations counted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "false")  # as in production: no per-query logging
    django_setup()
    from django.db import connection

    rows = []
    for scenario, units in (("plenty", 1_000_000), ("sell-out", SELL_OUT_UNITS)):
        for path, flash_sale in (("database", False), ("flash sale", True)):
            sku = hot_sku(units=units, flash_sale=flash_sale)
            connection.close()  # the seeding connection is not one of the buyers'
            figures = run(sku=sku, threads=args.threads, seconds=args.seconds, tag=sku)
            check(sku, figures["reservations"])
            rows.append((scenario, path, figures))
            print(
                f"{scenario:9} {path:11} {figures['reservations']:>7,} reservations "
                f"({figures['reservations_per_s']:,.0f}/s), {figures['refusals']:>8,} refusals, "
                f"{figures['calls_per_s']:,.0f} calls/s, "
                f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms",
                flush=True,
            )
    purged = purge_broker()

    database = connection.settings_dict
    command = (
        f"DATABASE_URL=postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']} "
        f"REDIS_URL={shlex.quote(os.environ.get('REDIS_URL', '(embedded)'))} "
        f".venv/bin/python bench/reservations.py --threads {args.threads} --seconds {args.seconds:g}"
    )
    lines = [
        "### Reservations on one hot SKU",
        "",
        f"`{command}`: {args.threads} threads in one process, each with its own PostgreSQL connection, "
        f"calling `inventory.services.reservation_create` for one unit of the same SKU for {args.seconds:g} s "
        "(row lock, conditional UPDATE, reservation + line rows, outbox event and its Celery message). "
        f"*plenty*: more units than the run can take; *sell-out*: {SELL_OUT_UNITS:,} units, then every call "
        "is refused. The run checks that the database holds exactly the reservations it counted.",
        "",
        "| scenario | path | reservations/s | reservations | refusals | calls/s | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, path, f in rows:
        lines.append(
            f"| {scenario} | {path} | {f['reservations_per_s']:,.0f} | {f['reservations']:,} | {f['refusals']:,} "
            f"| {f['calls_per_s']:,.0f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} |"
        )
    record("reservations", "\n".join(lines))
    print(f"recorded in BENCHMARKS.md; {purged} queued event-delivery messages purged from the broker")


def purge_broker() -> int:
    """The run queued one delivery task per event and no worker consumed them: drop them."""
    from celery import current_app

    try:
        with current_app.connection_for_write() as conn:
            return current_app.control.purge(connection=conn) or 0
    except Exception as exc:
        print(f"could not purge the broker: {exc}")
        return 0


if __name__ == "__main__":
    sys.exit(main())

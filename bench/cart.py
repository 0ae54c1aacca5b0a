"""Add-to-cart throughput over HTTP (issue 5): POST /api/v1/cart/items/ under load.

    .venv/bin/python bench/cart.py [--connections 16] [--seconds 20]

gunicorn with production settings (rate limits off), wrk at 16 connections; every request is a new
guest's first add of a SKU in stock, taken in turn from a few thousand: it checks the SKU is buyable
and its availability, creates the cart's Redis hash in one Lua script and sets the signed cookie.
Figures go to BENCHMARKS.md ("cart").
"""

from __future__ import annotations

import argparse
import os
import sys

from common import Server, django_setup, environment_prefix, record, table, wrk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 20)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 4)))
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    django_setup()
    from catalog.selectors import listed_products
    from inventory.models import Stock

    product_ids = listed_products().order_by("-id").values_list("id", flat=True)[:20_000]
    skus = list(
        Stock.objects.filter(variant__product_id__in=list(product_ids), on_hand__gte=100).values_list("sku", flat=True)[
            :3000
        ]
    )
    if not skus:
        raise SystemExit("no SKUs in stock: seed the catalogue first (make demo or seed_demo --products N)")
    with Server(workers=args.workers) as server:
        wrk(server.base_url, skus, connections=args.connections, seconds=3, script="cart_add.lua")
        result = wrk(server.base_url, skus, connections=args.connections, seconds=args.seconds, script="cart_add.lua")
    print(f"add to cart: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
          f"errors {result['errors'] + result['non_2xx']}")  # fmt: skip
    if not args.no_record:
        record(
            "cart",
            "### Add to cart over HTTP\n\n"
            f"`{environment_prefix()}.venv/bin/python bench/cart.py --connections {args.connections} "
            f"--seconds {args.seconds}`: gunicorn "
            f"with {args.workers} sync workers and production settings, rate limits off; wrk, {args.connections} "
            "connections, every request a new guest's first add of a SKU in stock.\n\n"
            + table([("POST /api/v1/cart/items/", result)]),
        )


if __name__ == "__main__":
    sys.exit(main())

"""Load benchmark of the storefront's hot pages, served by gunicorn as production would.

    make bench                       # 1,000,000 products, 16 connections, 30 s per endpoint
    BENCH_PRODUCTS=20000 make bench  # a quicker look

Seeds the database named by DATABASE_URL (else the embedded one) up to BENCH_PRODUCTS products,
starts gunicorn with production settings, and runs wrk against a bare Django view (the ceiling of
this server set-up: full middleware, no database), product pages and category pages, each over
thousands of different URLs. Figures go to BENCHMARKS.md with the command.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys

from common import PYTHON, ROOT, Server, django_setup, environment_prefix, record, table, warm, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=int(os.environ.get("BENCH_PRODUCTS", 1_000_000)))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 30)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 4)))
    parser.add_argument("--no-record", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()

    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, check=True)
    subprocess.run([PYTHON, "manage.py", "seed_demo", "--products", str(args.products)], cwd=ROOT, check=True)

    django_setup()
    from catalog.models import Category, Product
    from catalog.selectors import listed_products

    rng = random.Random(7)
    total = Product.objects.count()
    # A spread of products: random ids across the whole table, not just the newest.
    max_id = Product.objects.order_by("-id").values_list("id", flat=True).first()
    ids = rng.sample(range(1, max_id + 1), min(4000, max_id))
    product_paths = [f"/p/{slug}/" for slug in listed_products().filter(id__in=ids).values_list("slug", flat=True)]
    categories = list(Category.objects.values_list("path", "depth"))
    category_paths = [f"/c/{path}/" for path, _ in categories]
    sorted_paths = [f"/c/{path}/?sort={rng.choice(['price_asc', 'price_desc', 'newest'])}" for path, _ in categories]
    deep_paths = [f"/c/{path}/?page={rng.randint(2, 500)}" for path, depth in categories if depth == 0]

    runs = [
        ("bare Django view", ["/bench/bare/"]),
        ("product page", product_paths),
        ("category page (page 1)", category_paths + sorted_paths),
        ("category page (deep pages 2-500)", deep_paths),
    ]
    results = []
    with Server(workers=args.workers) as server:
        for name, paths in runs:
            seconds = warm(server.base_url, paths)
            print(f"{name}: {len(paths):,} URLs warmed in {seconds:.0f}s", flush=True)
            result = wrk(server.base_url, paths, connections=args.connections, seconds=args.seconds)
            results.append((name, result))
            errors = result["errors"] + result["non_2xx"]
            print(
                f"{name:35} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f}  p95 {result['p95_ms']:6.1f}  "
                f"p99 {result['p99_ms']:6.1f} ms  errors {errors}",
                flush=True,
            )

    bare = results[0][1]["rps"]
    product = results[1][1]
    verdict = (
        f"Product page p95 {product['p95_ms']:.1f} ms (target < 50 ms); throughput "
        f"{product['rps'] / bare:.0%} of the bare view's (target >= 50%)."
    )
    print(verdict)
    if not args.no_record:
        command = (
            f"{environment_prefix()}.venv/bin/python bench/pages.py --products {args.products} "
            f"--seconds {args.seconds} --workers {args.workers}"
        )
        body = (
            f"### Storefront pages under load\n\n`{command}` — {total:,} products; gunicorn with "
            f"{args.workers} sync workers and production settings; wrk, {args.connections} connections, "
            f"{args.seconds} s per endpoint over thousands of distinct URLs, each requested once beforehand "
            "(the steady state: caches filled); "
            f"wrk runs on the same machine as the server and the database.\n\n" + table(results) + f"\n\n{verdict}"
        )
        record("pages", body)


if __name__ == "__main__":
    sys.exit(main())

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
    parser.add_argument("--pairs", type=int, default=5, help="bare/product run pairs for the throughput ratio")
    parser.add_argument("--pair-seconds", type=int, default=8)
    parser.add_argument("--product-pages", type=int, default=4000, help="distinct product pages requested")
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
    ids = rng.sample(range(1, max_id + 1), min(args.product_pages, max_id))
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
            # every worker serves each URL a few times first: (3/4)^(2*4) ~ 10% of a worker's URLs unseen
            passes = 2 * args.workers
            seconds = warm(server.base_url, paths, passes=passes)
            print(f"{name}: {len(paths):,} URLs warmed ({passes} passes) in {seconds:.0f}s", flush=True)
            result = wrk(server.base_url, paths, connections=args.connections, seconds=args.seconds)
            results.append((name, result))
            errors = result["errors"] + result["non_2xx"]
            print(
                f"{name:35} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f}  p95 {result['p95_ms']:6.1f}  "
                f"p99 {result['p99_ms']:6.1f} ms  errors {errors}",
                flush=True,
            )

        # The throughput ratio from pairs of short runs, bare view then product page, one after the
        # other: on a shared machine the speed drifts by 10-20% from one minute to the next, which a
        # ratio of two runs a minute apart takes for a difference between the views.
        pairs = []
        for _ in range(args.pairs):
            bare_run = wrk(server.base_url, runs[0][1], connections=args.connections, seconds=args.pair_seconds)
            product_run = wrk(server.base_url, runs[1][1], connections=args.connections, seconds=args.pair_seconds)
            pairs.append((bare_run["rps"], product_run["rps"]))
            print(f"pair: bare {bare_run['rps']:.0f} req/s, product {product_run['rps']:.0f} req/s", flush=True)

    product = results[1][1]
    ratios = sorted(product_rps / bare_rps for bare_rps, product_rps in pairs)
    ratio = ratios[len(ratios) // 2]
    verdict = (
        f"Product page p95 {product['p95_ms']:.1f} ms (target < 50 ms); throughput {ratio:.0%} of the bare "
        f"view's, the median of {len(pairs)} pairs of {args.pair_seconds} s runs "
        f"({', '.join(f'{r:.0%}' for r in ratios)}; target >= 50%)."
    )
    print(verdict)
    if not args.no_record:
        command = (
            f"{environment_prefix()}.venv/bin/python bench/pages.py --products {args.products} "
            f"--seconds {args.seconds} --workers {args.workers}"
            + (f" --product-pages {args.product_pages}" if args.product_pages != 4000 else "")
        )
        body = (
            f"### Storefront pages under load\n\n`{command}` — {total:,} products; gunicorn with "
            f"{args.workers} sync workers and production settings; wrk, {args.connections} connections, "
            f"{args.seconds} s per endpoint over thousands of distinct URLs ({len(product_paths):,} product pages), "
            f"each requested {2 * args.workers} "
            "times beforehand (the steady state: caches filled, in every worker); "
            f"wrk runs on the same machine as the server and the database.\n\n" + table(results) + f"\n\n{verdict}"
        )
        record("pages", body)


if __name__ == "__main__":
    sys.exit(main())

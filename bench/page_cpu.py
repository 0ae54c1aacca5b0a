"""CPU time per request of the product page and of the bare view, in-process (no HTTP, no wrk).

    DATABASE_URL=… REDIS_URL=… .venv/bin/python bench/page_cpu.py [--pages 200] [--requests 3000]

Calls the WSGI application directly with production settings, over ``--pages`` product pages
cycled in turn, and prints the process CPU time per request (``time.process_time``) of each.
Every page is requested once before the timed requests (built and cached), so with
STOREFRONT_PAGE_TRACKING on (production's default) a timed request finds this process's copy of its
page, vouched for by Redis's invalidations, and makes no Redis round trip, unless its stock figure
was first written to Redis by that warming request: its message arrives after the copy was read,
and the first timed request checks with Redis once. ``--requests`` a few times ``--pages`` measures
the steady state; ``STOREFRONT_PAGE_TRACKING=false`` in the environment measures the round trip
of every warm page. The figures of BENCHMARKS.md's "Product page against the bare view" come from
runs of this.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import django_setup_production, wsgi_get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    django_setup_production()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from catalog.selectors import listed_products

    slugs = list(listed_products().order_by("id").values_list("slug", flat=True)[: args.pages])
    if not slugs:
        raise SystemExit("no listed products: seed the database first (manage.py seed_demo)")

    def cpu_per_request(paths: list[str]) -> float:
        started = time.process_time()
        for i in range(args.requests):
            status = wsgi_get(paths[i % len(paths)])
            if not status.startswith("200"):
                raise SystemExit(f"{paths[i % len(paths)]} answered {status}")
        return (time.process_time() - started) / args.requests * 1e6

    product_paths = [f"/p/{slug}/" for slug in slugs]
    for path in product_paths:  # every page built and cached once
        wsgi_get(path)
    bare = cpu_per_request(["/bench/bare/"])
    product = cpu_per_request(product_paths)
    print(f"{len(slugs):,} product pages, {args.requests:,} requests each")
    print(f"bare view     {bare:7.0f} µs CPU per request")
    print(f"product page  {product:7.0f} µs CPU per request ({bare / product:.0%} of the bare view's throughput)")


if __name__ == "__main__":
    sys.exit(main())

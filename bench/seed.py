"""How long `seed_demo --products N` takes to load a fresh database (issue: 1,000,000 in under 10 minutes).

    .venv/bin/python bench/seed.py [--products 1000000]

Creates a scratch database next to the one DATABASE_URL names (or in the embedded server), migrates
it, times the seed command, and drops it again. The figure goes to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import psycopg
from common import PYTHON, ROOT, environment_prefix, record, service_urls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1_000_000)
    args = parser.parse_args()

    database_url, redis_url = service_urls()
    scratch = "shop_seed_bench"
    base, _, query = database_url.partition("?")
    scratch_url = base.rsplit("/", 1)[0] + f"/{scratch}" + (f"?{query}" if query else "")
    admin_url = base.rsplit("/", 1)[0] + "/postgres" + (f"?{query}" if query else "")
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    env = dict(os.environ, DATABASE_URL=scratch_url, REDIS_URL=redis_url)
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
        started = time.monotonic()
        subprocess.run(
            [PYTHON, "manage.py", "seed_demo", "--products", str(args.products)], cwd=ROOT, env=env, check=True
        )
        seconds = time.monotonic() - started
    finally:
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    server = "embedded PostgreSQL 18" if "host=" in database_url else "PostgreSQL at DATABASE_URL"
    rate = args.products / seconds
    line = f"{args.products:,} products into an empty database in {seconds:.0f} s ({rate:,.0f} products/s)"
    print(line)
    record(
        "seed",
        f"### Bulk seeding\n\n`{environment_prefix()}.venv/bin/python bench/seed.py --products {args.products}` "
        f"({server}; the seed goes into a scratch database beside it): {line}, including the demo accounts, "
        "sellers, categories, the generated photos and their renditions, COPY of products, variants, stock and "
        "images, VACUUM (ANALYZE), the search index's rebuild and the demo orders. "
        "Target: 1,000,000 in under 10 minutes.",
    )


if __name__ == "__main__":
    sys.exit(main())

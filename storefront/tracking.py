"""Redis tells this process which cached keys changed, so that its own copies of pages can be used
without asking Redis first (Redis "server-assisted client-side caching", broadcasting mode).

A background thread keeps one connection to the cache's Redis, in RESP2, with
``CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX …`` and ``SUBSCRIBE __redis__:invalidate``:
from then on Redis sends it the name of every key under those prefixes that any client writes, and
of every such key that expires or is evicted, and a message meaning "everything" after a FLUSHDB or
FLUSHALL (of any database of that server). (redis-py's own client-side cache needs Redis 7.4 and
caches command replies per connection; broadcasting mode is in Redis from 6.0 and suits a few key
prefixes read by many pages.)

A reader takes a ``mark()`` before it reads keys from Redis, and keeps it with what it read. Later,
``unchanged_since(keys, mark)`` says whether that is still what Redis holds: true only while the
thread has been connected without a break since the mark was taken, is caught up (below), and no
invalidation of those keys has reached it since. A write that Redis applied after the read sends its
invalidation after the read's reply, so it reaches the thread after the mark. What is left is the
time a message takes to reach the thread, during which this process may still serve what it read
before the write: milliseconds (a busy worker hands the thread the interpreter at least every
5 ms), and never more than ``LAG_LIMIT``: the thread pings Redis every ``PING_EVERY`` seconds, and
Redis answers a ping after every message it queued before it, so a pong that has not come back
within ``LAG_LIMIT`` (a broken link, or a thread falling behind a burst of writes) stops all trust
until one does. Version bumps this process makes itself are noted at once (``note_written``);
other writes, the stock figures included, wait for their message.

When the connection breaks nothing read before is trusted again; the thread reconnects with a
backoff, and only reads made after it is back can be. A process that forks (gunicorn's workers)
starts its own thread on first use; the sequence of marks never goes back within a process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable
from functools import partial

import redis

logger = logging.getLogger(__name__)

CHANNEL = "__redis__:invalidate"
PING_EVERY = 0.5  # seconds between the thread's pings
LAG_LIMIT = 1.5  # seconds a ping may go unanswered before nothing is trusted; twice this breaks the link
STEADY = 10.0  # seconds a connection must last before a break starts the backoff over
MAX_REMEMBERED = 50_000  # invalidated key names kept (~6 MB); past this, forget them and trust no older read


class Tracker:
    def __init__(self, url: str, prefixes: Iterable[str], *, connect_timeout: float = 0.5) -> None:
        self.url = url
        self.prefixes = tuple(prefixes)
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._seq = 0  # counts invalidations (and breaks) this process has seen; never goes back
        self._reset()
        # A forked child gets a fresh lock (the parent's thread may have held this one at the fork).
        os.register_at_fork(after_in_child=partial(_after_fork, weakref.ref(self)))

    def _reset(self) -> None:
        self._seq += 1
        self._floor = self._seq + 1  # reads marked before this are not trusted
        self._invalidated: dict[str, int] = {}  # key name -> the seq of its last invalidation
        self._connected = False
        self._caught_up = 0.0  # time.monotonic() when a ping was sent whose pong has come back
        self.client_id: int | None = None  # the listening connection's, in CLIENT LIST
        self.failures = 0  # connection attempts or connections that failed in a row

    # --- readers -------------------------------------------------------------------------------

    def mark(self) -> int | None:
        """The point a read is about to start from, or None when no invalidations are coming in
        (then nothing read can be trusted later)."""
        self._ensure_started()
        with self._lock:
            return self._seq if self._live() else None

    def unchanged_since(self, keys: Iterable[str], mark: int | None) -> bool:
        """Whether Redis still holds what was read of ``keys`` (full key names, all under the
        tracked prefixes) after ``mark``, as far as the invalidations that reached this process say."""
        if mark is None or self._pid != os.getpid():  # a forked child has no thread of its own yet
            return False
        with self._lock:
            if mark < self._floor or not self._live():
                return False
            invalidated = self._invalidated
            return all(invalidated.get(key, 0) <= mark for key in keys)

    def listening(self) -> bool:
        with self._lock:
            return self._live()

    def covers(self, key: str) -> bool:
        """Whether a change of this key (a full key name) is announced."""
        return key.startswith(self.prefixes)

    def note_written(self, keys: Iterable[str]) -> None:
        """This process wrote these keys: what it read of them before is stale now, without
        waiting for Redis's message."""
        with self._lock:
            self._seq += 1
            for key in keys:
                self._invalidated[key] = self._seq
            self._forget_if_full()

    # --- the thread ----------------------------------------------------------------------------

    def _live(self) -> bool:
        return self._connected and time.monotonic() - self._caught_up < LAG_LIMIT

    def _ensure_started(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            # A fresh process, a forked one, or a thread that died: start over.
            self._reset()
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="redis-invalidations", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (tests); the next ``mark`` starts a new one."""
        with self._lock:
            self._stop.set()
            self._pid = None
            self._connected = False
        if self._thread is not None:
            self._thread.join(timeout=2 * LAG_LIMIT + self.connect_timeout)

    def _run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            connection = None
            started = time.monotonic()
            try:
                connection = self._subscribe(stop)
                self._listen(connection, stop)
            except (redis.RedisError, OSError) as exc:
                self._failed(stop)
                if self.failures == 1 or self.failures % 100 == 0:  # an outage is said once, then now and then
                    logger.warning("Redis invalidations: %s; pages are checked with Redis until they are back", exc)
            except Exception:  # a reply this code did not expect: say so, and listen again
                self._failed(stop)
                logger.exception("Redis invalidations: unexpected failure; listening again")
            finally:
                with self._lock:
                    if not stop.is_set():  # a stopped thread leaves the state to its successor
                        self._connected = False
                if connection is not None:
                    connection.disconnect()
            if time.monotonic() - started > STEADY:
                backoff = 0.1  # it held for a while: this is a new outage
            stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _failed(self, stop: threading.Event) -> None:
        with self._lock:
            if not stop.is_set():
                self.failures += 1

    def _subscribe(self, stop: threading.Event) -> redis.Connection:
        pool = redis.ConnectionPool.from_url(
            self.url, protocol=2, socket_connect_timeout=self.connect_timeout, socket_timeout=2 * LAG_LIMIT
        )
        connection = pool.make_connection()
        try:
            connection.connect()
            connection.send_command("CLIENT", "ID")
            client_id = connection.read_response()
            prefixes = [word for prefix in self.prefixes for word in ("PREFIX", prefix)]
            connection.send_command("CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes)
            connection.read_response()
            connection.send_command("SUBSCRIBE", CHANNEL)
            connection.read_response()
        except BaseException:
            connection.disconnect()
            raise
        with self._lock:
            if stop.is_set():
                connection.disconnect()
                raise redis.ConnectionError("stopped")
            # Whatever changed while no connection listened went unannounced: only reads from here on.
            self._seq += 1
            self._floor = self._seq
            self._invalidated.clear()
            self._connected = True
            self._caught_up = time.monotonic()
            self.client_id = client_id
        return connection

    def _listen(self, connection: redis.Connection, stop: threading.Event) -> None:
        pings: deque[float] = deque()  # when each unanswered ping was sent, oldest first
        next_ping = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_ping:
                connection.send_command("PING")  # in subscribed mode the reply is ["pong", ""]
                pings.append(now)
                next_ping = now + PING_EVERY
            if pings and now - pings[0] > 2 * LAG_LIMIT:
                raise redis.ConnectionError(f"no answer to a ping in {2 * LAG_LIMIT:.0f} s")
            if not connection.can_read(timeout=max(0.0, next_ping - time.monotonic())):
                continue
            message = connection.read_response()
            if message[0] == b"pong":
                sent = pings.popleft()
                with self._lock:
                    if stop.is_set():
                        return
                    self._caught_up = sent  # every message Redis queued before this ping is in
                    self.failures = 0
            else:
                self._receive(message, stop)

    def _receive(self, message: list, stop: threading.Event) -> None:
        if message[0] != b"message":
            return
        keys = message[2]
        with self._lock:
            if stop.is_set():
                return
            self._seq += 1
            if keys is None:  # FLUSHDB or FLUSHALL: every key changed
                self._floor = self._seq
                self._invalidated.clear()
                return
            for key in keys:
                self._invalidated[key.decode(errors="replace")] = self._seq
            self._forget_if_full()

    def _forget_if_full(self) -> None:
        if len(self._invalidated) > MAX_REMEMBERED:
            self._invalidated.clear()
            self._floor = self._seq  # a read marked before now may have lost its invalidation


def _after_fork(ref: weakref.ref[Tracker]) -> None:
    tracker = ref()
    if tracker is not None:
        tracker._lock = threading.Lock()

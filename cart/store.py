"""Where carts live: one Redis hash per cart, one field per SKU. Private to the cart app.

Keys are ``cart:user:<id>`` and ``cart:guest:<uuid>``; each field holds the line as JSON,
``{"quantity", "unit_price", "currency", "added_at"}`` (``unit_price`` the snapshot, a decimal string).
Every change renews the key's TTL in the same atomic step (a Lua script or a MULTI), so a cart
disappears a month after it was last touched, never while it is being used.

The client is ``django_redis.get_redis_connection("default")``, fetched on every call (never kept),
so a test or an operator changing ``CACHES`` is followed. The cache is configured to swallow its own
errors, but this raw client raises them: every call here turns a ``RedisError`` into
``CartUnavailable``. Cart keys must not be evicted: run that Redis with ``noeviction`` (DESIGN.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CART_TTL = timedelta(days=30)  # a month to come back to a cart; renewed on every change
KEY_PREFIX = "cart:"

T = TypeVar("T")


class CartUnavailable(Exception):
    """Redis cannot be reached: carts can be neither read nor changed for now (durable carts can be
    read from PostgreSQL)."""


@dataclass(frozen=True)
class CartOwner:
    """Whose cart: a signed-in user's, or a guest's (the id of the guest cookie)."""

    user: Any = None  # an accounts.User that is signed in (never AnonymousUser)
    guest_id: str | None = None

    def __post_init__(self) -> None:
        if (self.user is None) == (self.guest_id is None):
            raise ValueError("a cart belongs to a user or to a guest, exactly one of them")

    @property
    def key(self) -> str:
        if self.user is not None:
            return f"{KEY_PREFIX}user:{self.user.pk}"
        return f"{KEY_PREFIX}guest:{self.guest_id}"

    @property
    def is_guest(self) -> bool:
        return self.user is None


def ttl_seconds() -> int:
    ttl = getattr(settings, "CART_TTL", CART_TTL)
    return int(ttl.total_seconds()) if isinstance(ttl, timedelta) else int(ttl)


# KEYS[1] the cart. ARGV: 1 sku, 2 mode ("add" adds to the line, "set" sets it; 0 removes),
# 3 quantity, 4 most units per line, 5 most lines per cart, 6 units available, 7 JSON of the fields
# to write on the line (snapshot price and currency; "{}" keeps them), 8 added_at of a new line,
# 9 TTL in seconds.
# Returns {status, quantity}: status 1 done (quantity after), 0 nothing to remove, and refusals
# -1 more than available, -2 too many lines, -3 more than the per-line maximum, -4 no such line
# (set on a line that is not there), -5 another currency than the cart's; quantity is then the
# line's current one.
# One script: the read of the line, the checks, the write and the TTL renewal are one atomic step,
# so two tabs adding the same SKU at once can never together pass a limit either one checked.
_CHANGE_LINE = """
local key, sku, mode = KEYS[1], ARGV[1], ARGV[2]
local quantity = tonumber(ARGV[3])
local current = redis.call('HGET', key, sku)
local fields = cjson.decode(ARGV[7])
local line
if current then
  line = cjson.decode(current)
else
  if mode == 'set' then
    if quantity <= 0 then return {0, 0} end
    return {-4, 0}
  end
  if redis.call('HLEN', key) >= tonumber(ARGV[5]) then return {-2, 0} end
  if fields.currency then
    for _, raw in ipairs(redis.call('HVALS', key)) do
      if cjson.decode(raw).currency ~= fields.currency then return {-5, 0} end
    end
  end
  line = {quantity = 0, added_at = ARGV[8]}
end
local old = tonumber(line.quantity) or 0
local new = quantity
if mode == 'add' then new = old + quantity end
if new <= 0 then
  redis.call('HDEL', key, sku)
  redis.call('EXPIRE', key, tonumber(ARGV[9]))
  return {1, 0}
end
if new > old then
  if new > tonumber(ARGV[4]) then return {-3, old} end
  if new > tonumber(ARGV[6]) then return {-1, old} end
end
for name, value in pairs(fields) do line[name] = value end
line.quantity = new
redis.call('HSET', key, sku, cjson.encode(line))
redis.call('EXPIRE', key, tonumber(ARGV[9]))
return {1, new}
"""

# KEYS[1] the cart; ARGV[1] TTL, then field, value pairs. Writes the lines only if the cart is not
# in Redis (a concurrent change since the miss wins over the older durable copy). Returns 1 if restored.
_RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""

_scripts: dict[tuple[int, str], Any] = {}


def connection():
    return get_redis_connection("default")


def call(operation: Callable[[Any], T]) -> T:
    """Run ``operation(client)``; a Redis failure becomes CartUnavailable."""
    try:
        return operation(connection())
    except RedisError as exc:
        logger.warning("cart: Redis unavailable: %s", exc)
        raise CartUnavailable(str(exc)) from exc


def _script(client, source: str):
    # register_script keeps the SHA: later calls are EVALSHA, re-sent in full after a SCRIPT FLUSH.
    script = _scripts.get((id(client), source))
    if script is None:
        script = _scripts[(id(client), source)] = client.register_script(source)
    return script


def decode_lines(raw: Mapping[bytes | str, bytes | str]) -> dict[str, dict]:
    """A hash as ``{sku: line}``; a field that is not a line (corrupt, hand-edited) is left out."""
    lines = {}
    for field, value in raw.items():
        sku = field.decode() if isinstance(field, bytes) else field
        try:
            line = json.loads(value)
            quantity = int(line["quantity"])
        except (ValueError, TypeError, KeyError):
            logger.warning("cart: ignoring an unreadable line %r", sku)
            continue
        if quantity > 0 and isinstance(line.get("unit_price"), str):
            lines[sku] = {**line, "quantity": quantity}
    return lines


def encode_line(line: Mapping[str, Any]) -> str:
    return json.dumps(dict(line), sort_keys=True, separators=(",", ":"))


def read(key: str) -> dict[str, dict]:
    return decode_lines(call(lambda client: client.hgetall(key)))


def count_lines(key: str) -> int:
    return int(call(lambda client: client.hlen(key)))


def change_line(
    key: str,
    *,
    sku: str,
    mode: str,
    quantity: int,
    max_quantity: int,
    max_lines: int,
    available: int,
    fields: Mapping[str, Any],
    added_at: str,
) -> tuple[int, int]:
    args = [sku, mode, quantity, max_quantity, max_lines, available, json.dumps(dict(fields)), added_at, ttl_seconds()]
    status, new_quantity = call(lambda client: _script(client, _CHANGE_LINE)(keys=[key], args=args))
    return int(status), int(new_quantity)


def remove_lines(key: str, skus: Iterable[str]) -> None:
    skus = list(skus)
    if not skus:
        return

    def remove(client) -> None:
        with client.pipeline(transaction=True) as pipe:  # MULTI: the removal and the TTL renewal together
            pipe.hdel(key, *skus)
            pipe.expire(key, ttl_seconds())
            pipe.execute()

    call(remove)


def restore(key: str, lines: Mapping[str, Mapping[str, Any]]) -> bool:
    """Put lines back into a cart Redis lost; False (nothing written) when the cart exists again."""
    if not lines:
        return False
    args: list[Any] = [ttl_seconds()]
    for sku, line in lines.items():
        args += [sku, encode_line(line)]
    return bool(call(lambda client: _script(client, _RESTORE)(keys=[key], args=args)))


def delete(key: str) -> None:
    call(lambda client: client.delete(key))


def ttl(key: str) -> int:
    return int(call(lambda client: client.ttl(key)))

"""The flash-sale token bucket: one Redis key per SKU holding how many units may still be admitted.

Private to the inventory app; inventory.services is its only user (flash_sale_open, flash_sale_admit,
flash_sale_reconcile, and the give-back of tokens when a reservation fails, is released or expires).

Every operation is the same Lua script, so each runs atomically in Redis: two buyers can never both
take the last token, and the count never goes below zero. The bucket is an admission filter, not the
stock: the database decides (reservation_create), and reconciliation sets the bucket back to the
database's availability whenever the two drift (a buyer admitted whose transaction then rolled back,
a reservation made without the bucket, Redis restarted).
"""

from __future__ import annotations

import logging
from typing import Any

from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "shop:inventory:flash-sale:"

# KEYS[1] the bucket; ARGV[1] the operation, ARGV[2] a count.
#   take n -> 1 taken, 0 refused (fewer than n tokens left), -1 no bucket (not open, or Redis lost it)
#   give n -> tokens after giving n back; only to an existing bucket (a closed sale stays closed)
#   set n  -> n: the bucket now holds n tokens (open, reconcile)
#   init n -> tokens: n only if there was no bucket (rebuilt once when Redis lost it, not by every buyer)
#   get    -> tokens, or -1 when there is no bucket
_SCRIPT = """
local op = ARGV[1]
local n = tonumber(ARGV[2] or '0')
local tokens = redis.call('GET', KEYS[1])
if op == 'take' then
  if not tokens then return -1 end
  if tonumber(tokens) < n then return 0 end
  redis.call('DECRBY', KEYS[1], n)
  return 1
elseif op == 'give' then
  if not tokens then return -1 end
  return redis.call('INCRBY', KEYS[1], n)
elseif op == 'set' then
  if n < 0 then n = 0 end
  redis.call('SET', KEYS[1], n)
  return n
elseif op == 'init' then
  if tokens then return tonumber(tokens) end
  if n < 0 then n = 0 end
  redis.call('SET', KEYS[1], n)
  return n
elseif op == 'get' then
  if not tokens then return -1 end
  return tonumber(tokens)
end
return redis.error_reply('unknown token bucket operation ' .. tostring(op))
"""

NO_BUCKET = -1


class BucketUnavailable(Exception):
    """Redis could not be reached (or refused the script)."""


_scripts: dict[int, Any] = {}


def _run(sku: str, op: str, count: int = 0) -> int:
    try:
        connection = get_redis_connection("default")
        script = _scripts.get(id(connection))
        if script is None:
            # register_script keeps the SHA: later calls are EVALSHA, re-sent in full after a SCRIPT FLUSH.
            script = _scripts[id(connection)] = connection.register_script(_SCRIPT)
        return int(script(keys=[KEY_PREFIX + sku], args=[op, count]))
    except RedisError as exc:
        logger.warning("inventory: flash-sale bucket %s %s failed: %s", sku, op, exc)
        raise BucketUnavailable(str(exc)) from exc


def take(sku: str, count: int) -> int:
    return _run(sku, "take", count)


def give(sku: str, count: int) -> int:
    return _run(sku, "give", count)


def set_tokens(sku: str, count: int) -> int:
    return _run(sku, "set", count)


def init_tokens(sku: str, count: int) -> int:
    return _run(sku, "init", count)


def tokens(sku: str) -> int:
    return _run(sku, "get")


def delete(sku: str) -> None:
    try:
        get_redis_connection("default").delete(KEY_PREFIX + sku)
    except RedisError as exc:
        raise BucketUnavailable(str(exc)) from exc

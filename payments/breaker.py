"""A circuit breaker per gateway, its state in Redis so every web and worker process shares it.

Closed: calls go through; successes and errors are counted in fixed windows of
PAYMENT_BREAKER_WINDOW seconds (the current and the previous window are read together). When at
least PAYMENT_BREAKER_MIN_CALLS calls were made and the share of errors reaches
PAYMENT_BREAKER_ERROR_RATE, it opens. Open: the gateway is skipped for PAYMENT_BREAKER_COOLDOWN
seconds. Then half-open: one caller is let through as a probe; its success closes the breaker, its
error opens it for another cool-down (a probe that never reports is replaced after the probe TTL).

A decline is a success here (the gateway works); an error or a timeout is an error. Redis is fast
state, not the authority: when it cannot be reached the breaker fails open (every gateway is tried)
and counts nothing. Private to the payments app.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "shop:payments:breaker:"
clock = time.time  # seconds; the tests step it instead of waiting out a cool-down

# KEYS[1] the gateway's hash. ARGV: now, window, min_calls, error_rate, cooldown, success (1/0).
_RECORD = """
local h = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local bucket = math.floor(now / window)
local current = tonumber(redis.call('HGET', h, 'bucket') or '-1')
if current ~= bucket then
  if current == bucket - 1 then
    redis.call('HSET', h, 'prev_ok', redis.call('HGET', h, 'ok') or 0, 'prev_err', redis.call('HGET', h, 'err') or 0)
  else
    redis.call('HSET', h, 'prev_ok', 0, 'prev_err', 0)
  end
  redis.call('HSET', h, 'ok', 0, 'err', 0, 'bucket', bucket)
end
local success = ARGV[6] == '1'
redis.call('HINCRBY', h, success and 'ok' or 'err', 1)
redis.call('EXPIRE', h, math.ceil(window * 2 + tonumber(ARGV[5]) + 3600))
local state = redis.call('HGET', h, 'state') or 'closed'
local function reset(new_state)
  redis.call('HSET', h, 'state', new_state, 'ok', 0, 'err', 0, 'prev_ok', 0, 'prev_err', 0)
end
if state == 'open' then return 'open' end  -- a call that started before it opened
if state == 'half_open' then
  if success then
    reset('closed')
    return 'closed'
  end
  reset('open')
  redis.call('HSET', h, 'open_until', now + tonumber(ARGV[5]))
  return 'open'
end
if not success then
  local errors = tonumber(redis.call('HGET', h, 'err')) + tonumber(redis.call('HGET', h, 'prev_err'))
  local total = errors + tonumber(redis.call('HGET', h, 'ok')) + tonumber(redis.call('HGET', h, 'prev_ok'))
  if total >= tonumber(ARGV[3]) and errors / total >= tonumber(ARGV[4]) then
    reset('open')
    redis.call('HSET', h, 'open_until', now + tonumber(ARGV[5]))
    return 'open'
  end
end
return 'closed'
"""

# KEYS[1] the gateway's hash. ARGV: now, probe_ttl. Returns 1 to call the gateway, 0 to skip it.
_ALLOW = """
local h = KEYS[1]
local now = tonumber(ARGV[1])
local state = redis.call('HGET', h, 'state') or 'closed'
if state == 'closed' then return 1 end
if state == 'open' and now < tonumber(redis.call('HGET', h, 'open_until') or '0') then return 0 end
if state == 'half_open' and now < tonumber(redis.call('HGET', h, 'probe_until') or '0') then return 0 end
redis.call('HSET', h, 'state', 'half_open', 'probe_until', now + tonumber(ARGV[2]))
return 1
"""

_scripts: dict[tuple[int, str], Any] = {}


def _script(source: str):
    connection = get_redis_connection("default")
    key = (id(connection), source)
    if key not in _scripts:
        _scripts[key] = connection.register_script(source)
    return _scripts[key]


def allow(gateway: str) -> bool:
    """Whether to call ``gateway`` now. True when Redis is unavailable (fail open)."""
    try:
        probe_ttl = settings.PAYMENT_GATEWAY_TIMEOUT * 2 + 5
        return bool(int(_script(_ALLOW)(keys=[KEY_PREFIX + gateway], args=[repr(clock()), probe_ttl])))
    except RedisError as exc:
        logger.warning("payments: circuit breaker unavailable (Redis: %s); trying %s", exc, gateway)
        return True


def record(gateway: str, *, success: bool) -> str | None:
    """Count one call's result; returns the breaker's state after it ("closed" or "open")."""
    try:
        state = _script(_RECORD)(
            keys=[KEY_PREFIX + gateway],
            args=[
                repr(clock()),
                settings.PAYMENT_BREAKER_WINDOW,
                settings.PAYMENT_BREAKER_MIN_CALLS,
                settings.PAYMENT_BREAKER_ERROR_RATE,
                settings.PAYMENT_BREAKER_COOLDOWN,
                "1" if success else "0",
            ],
        )
    except RedisError as exc:
        logger.warning("payments: circuit breaker unavailable (Redis: %s); %s not counted", exc, gateway)
        return None
    state = state.decode() if isinstance(state, bytes) else state
    if state == "open" and not success:
        logger.warning("payments: circuit breaker for %s is open", gateway)
    return state


def state(gateway: str) -> dict[str, Any]:
    """The breaker of ``gateway`` as stored: state, counts of the current window, open_until."""
    try:
        raw = get_redis_connection("default").hgetall(KEY_PREFIX + gateway)
    except RedisError:
        return {"state": "unavailable"}
    values = {k.decode(): v.decode() for k, v in raw.items()}
    return {
        "state": values.get("state", "closed"),
        "successes": int(values.get("ok", 0)) + int(values.get("prev_ok", 0)),
        "errors": int(values.get("err", 0)) + int(values.get("prev_err", 0)),
        "open_until": float(values["open_until"]) if values.get("state") == "open" else None,
    }

"""Rate limits by name, each a setting (``RATE_LIMITS``, from ``RATE_LIMIT_<NAME>`` in the environment).

django-ratelimit does the counting in the cache (Redis); this module only names the limits, so that
views say ``hit(request, "cart_add", key="user_or_ip")`` and operators tune them without code.
``RATE_LIMITS_ENABLED=false`` turns every limit off (load tests). Keys are django-ratelimit keys
(``"ip"``, ``"user_or_ip"``) or a value of the caller's, such as a normalized email address.
"""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import get_usage

_BUILTIN_KEYS = {"ip", "user", "user_or_ip"}


def _usage(request, name: str, key: str, increment: bool) -> dict | None:
    if not settings.RATE_LIMITS_ENABLED:
        return None
    key_fn = key if key in _BUILTIN_KEYS else (lambda group, request: key)
    return get_usage(
        request,
        group=f"shop.{name}",
        key=key_fn,
        rate=settings.RATE_LIMITS[name],
        method=get_usage.ALL,
        increment=increment,
    )


def hit(request, name: str, *, key: str = "ip") -> bool:
    """Count this request against the limit; True when it goes over (refuse the request)."""
    usage = _usage(request, name, key, increment=True)
    return bool(usage and usage["should_limit"])


def is_blocked(request, name: str, *, key: str = "ip") -> bool:
    """Whether earlier ``record()`` calls used up the limit. For limits on failures, such as log-ins:
    check before the attempt, ``record()`` only when it fails."""
    usage = _usage(request, name, key, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])


def record(request, name: str, *, key: str = "ip") -> None:
    _usage(request, name, key, increment=True)

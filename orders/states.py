"""The state machines of DESIGN.md ("States"): every move is checked against these tables, and a move
not in them raises ``InvalidTransition`` (the API answers 409 ``conflict``).

Sub-orders: ``pending_payment -> confirmed | failed`` (the payment), then
``confirmed -> processing -> shipped -> delivered``; a seller may ship straight from ``confirmed``;
``cancelled`` from confirmed or processing. Returns: ``requested -> approved | rejected``,
``approved -> refunded``. Checkouts: ``reserved -> paying -> paid``; a payment that does not
succeed takes ``paying`` back to ``reserved``; a reserved checkout is ``abandoned`` or ``expired``, and
a paying one whose outcome settles as not paid after its time is up is ``expired``.

The order's own status is derived from its sub-orders (``order_status_for``).
"""

from __future__ import annotations

from collections.abc import Iterable

from orders.models import Checkout, Order, Return, SubOrder

S = SubOrder.Status
R = Return.Status
C = Checkout.Status
OS = Order.Status

SUB_ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.FAILED}),
    S.CONFIRMED: frozenset({S.PROCESSING, S.SHIPPED, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}

RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.REFUNDED}),
    R.REJECTED: frozenset(),
    R.REFUNDED: frozenset(),
}

CHECKOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    C.RESERVED: frozenset({C.PAYING, C.ABANDONED, C.EXPIRED}),
    C.PAYING: frozenset({C.PAID, C.RESERVED, C.EXPIRED}),
    C.PAID: frozenset(),
    C.ABANDONED: frozenset(),
    C.EXPIRED: frozenset(),
}

CANCELLABLE = frozenset({S.CONFIRMED, S.PROCESSING})


class InvalidTransition(Exception):
    """The object cannot move to that status from the one it is in."""

    def __init__(self, kind: str, current: str, target: str, message: str = "") -> None:
        self.kind, self.current, self.target = kind, current, target
        super().__init__(
            message or f"A {kind} that is {current.replace('_', ' ')} cannot become {target.replace('_', ' ')}."
        )


def _check(table: dict[str, frozenset[str]], kind: str, current: str, target: str) -> None:
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(kind, current, target)


def check_sub_order(current: str, target: str) -> None:
    _check(SUB_ORDER_TRANSITIONS, "sub-order", current, target)


def check_return(current: str, target: str) -> None:
    _check(RETURN_TRANSITIONS, "return", current, target)


def check_checkout(current: str, target: str) -> None:
    _check(CHECKOUT_TRANSITIONS, "checkout", current, target)


def order_status_for(sub_order_statuses: Iterable[str]) -> str:
    """The order's status from its sub-orders' (DESIGN.md).

    Payment first: all waiting -> ``pending_payment``, all failed -> ``failed``. Then the sub-orders
    that are not cancelled decide: all delivered -> ``delivered``; all shipped or delivered ->
    ``shipped``; some shipped -> ``partially_shipped``; none shipped yet -> ``confirmed``, or
    ``partially_cancelled`` when some others were cancelled. All cancelled -> ``cancelled``.
    """
    statuses = list(sub_order_statuses)
    if not statuses or all(s == S.PENDING_PAYMENT for s in statuses):
        return OS.PENDING_PAYMENT
    if all(s == S.FAILED for s in statuses):
        return OS.FAILED
    active = [s for s in statuses if s != S.CANCELLED]
    if not active:
        return OS.CANCELLED
    if all(s == S.DELIVERED for s in active):
        return OS.DELIVERED
    if all(s in (S.SHIPPED, S.DELIVERED) for s in active):
        return OS.SHIPPED
    if any(s in (S.SHIPPED, S.DELIVERED) for s in active):
        return OS.PARTIALLY_SHIPPED
    if len(active) < len(statuses):
        return OS.PARTIALLY_CANCELLED
    return OS.CONFIRMED

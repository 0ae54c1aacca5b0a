"""Commands that change stock: the seller's count on hand, reservations for checkouts (create,
release, expire, commit) and flash-sale admission.

Stock is changed only inside a transaction that holds ``SELECT ... FOR UPDATE`` on its rows, taken in
SKU order so that two checkouts with the same SKUs in another order cannot deadlock (DESIGN.md).
Overselling is refused three times over: the check of the locked rows, the conditional ``UPDATE``
(``WHERE on_hand - reserved >= quantity``, its row count checked) and the database's CHECK
``0 <= reserved <= on_hand``. ``on_hand`` below ``reserved`` is refused with ``StockConflict`` (the API
answers 409), a reservation that cannot be held with ``OutOfStock``; no code path answers 500.

Every change of on_hand is recorded as a StockMovement; every change publishes
``inventory.stock_changed``, and availability falling to the SKU's threshold publishes
``inventory.low_stock`` once per crossing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from catalog.models import Variant
from inventory import token_bucket
from inventory.events import LOW_STOCK, STOCK_CHANGED
from inventory.models import Reservation, ReservationLine, Stock, StockMovement
from shop.core.events import publish

logger = logging.getLogger(__name__)

RESERVATION_TTL = timedelta(minutes=10)  # long enough to type a card; settings.INVENTORY_RESERVATION_TTL overrides
SOLD_REASON = "sold"  # StockMovement.reason of a committed reservation
KEY_MAX_LENGTH = 200  # Reservation.key
MAX_ON_HAND = 1_000_000  # units of one SKU; more is a typo (an extra zero or two), not a warehouse
REASON_MAX_LENGTH = 200  # StockMovement.reason
DEFAULT_SET_REASON = "set by seller"


AVAILABLE_KEY_PREFIX = "inventory:available:"
AVAILABLE_KEY = AVAILABLE_KEY_PREFIX + "{}"  # the cached units available of one variant id, for display


def availability_key(variant_id: int) -> str:
    return AVAILABLE_KEY.format(variant_id)


class StockConflict(Exception):
    """The change would leave fewer units on hand than are reserved for checkouts (or fewer than none)."""


class StockNotFound(LookupError):
    """No variant has this SKU."""


class OutOfStock(Exception):
    """Fewer units are available than asked for; ``skus`` lists every SKU that is short."""

    def __init__(self, skus: Iterable[str], message: str = "") -> None:
        self.skus = sorted(set(skus))
        super().__init__(message or f"Not enough stock for {', '.join(self.skus)}.")


class ReservationLapsed(Exception):
    """A payment came for a reservation that was released or expired, and its units are gone now.
    ``skus`` lists the SKUs that could not be held again (the orders app refunds and tells the buyer)."""

    def __init__(self, skus: Iterable[str]) -> None:
        self.skus = sorted(set(skus))
        super().__init__(f"The reservation lapsed and {', '.join(self.skus)} can no longer be reserved.")


class ReservationNotFound(LookupError):
    """No reservation has this id."""


class FlashSaleUnavailable(Exception):
    """The flash-sale token bucket (Redis) cannot be reached, so no buyer is admitted for now. Nothing
    is oversold meanwhile: the database stays the authority; the buyer is asked to try again."""

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"{sku} is in a flash sale and its queue is unavailable right now; try again in a moment.")


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": ["Say why the stock changes (for example: recount, damaged, delivery)."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [f"A reason has at most {REASON_MAX_LENGTH} characters."]})
    return reason


def _conflict(stock: Stock, on_hand: int) -> StockConflict:
    if stock.reserved:
        return StockConflict(
            f"{stock.sku}: {stock.reserved} of the units on hand are reserved for checkouts, "
            f"so there cannot be fewer than {stock.reserved} on hand (asked for {on_hand})."
        )
    return StockConflict(f"{stock.sku}: there cannot be fewer than 0 units on hand (asked for {on_hand}).")


def _write(stock: Stock, *, on_hand: int, reason: str, actor, created: bool) -> Stock:
    """Store the new count with its movement and event. Call holding the row's lock."""
    if on_hand < stock.reserved:
        raise _conflict(stock, on_hand)
    delta = on_hand - stock.on_hand
    if delta == 0 and not created:
        return stock
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a refusal
            stock.on_hand = on_hand
            stock.save(update_fields=["on_hand", "updated_at"])
    except IntegrityError as exc:
        # The CHECK constraints are the second guard: only a bug or a write that bypassed the lock
        # gets here. Still a 409 for the client, never a 500.
        stock.refresh_from_db()
        logger.warning("inventory: the database refused on_hand=%s for %s: %s", on_hand, stock.sku, exc)
        raise _conflict(stock, on_hand) from exc
    StockMovement.objects.create(
        stock=stock,
        delta=delta,
        on_hand_after=on_hand,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    # A new record that starts low is not a crossing: it is armed only once it has been above.
    _stock_changed(stock, announce_low_stock=not created)
    if stock.flash_sale:  # more (or fewer) units for the sale: the bucket follows the database
        _after_commit_reconcile([stock.sku])
    return stock


def _stock_changed(stock: Stock, *, announce_low_stock: bool = True) -> None:
    """Publish ``inventory.stock_changed`` and keep the low-stock alert state. Call holding the row's
    lock, with ``stock`` carrying the row's current numbers."""
    # The figure pages show (selectors.displayed_availability_for_variants), stored once the change
    # is committed. The row stays locked until then, so the later of two changes nearly always writes
    # last; the entry's TTL bounds the rare exception (and a write lost to a Redis outage).
    ttl = settings.INVENTORY_AVAILABILITY_CACHE_TTL
    transaction.on_commit(partial(cache.set, availability_key(stock.variant_id), stock.available, ttl))
    publish(
        STOCK_CHANGED,
        {
            "sku": stock.sku,
            "variant_id": stock.variant_id,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "available": stock.available,
        },
    )
    is_low = stock.available <= stock.low_stock_threshold
    if is_low == stock.low_stock_alerted:
        return  # still low and already told, or still fine
    Stock.objects.filter(pk=stock.pk).update(low_stock_alerted=is_low)
    stock.low_stock_alerted = is_low
    if is_low and announce_low_stock:
        seller_id = Variant.objects.filter(pk=stock.variant_id).values_list("product__seller_id", flat=True).first()
        publish(
            LOW_STOCK,
            {
                "sku": stock.sku,
                "variant_id": stock.variant_id,
                "seller_id": seller_id,
                "available": stock.available,
                "threshold": stock.low_stock_threshold,
            },
        )


def _clean_count(value, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_ON_HAND:
        raise ValidationError({key: [f"Enter a whole number from {minimum:,} to {MAX_ON_HAND:,}."]})
    return value


@transaction.atomic
def stock_set(*, variant: Variant, on_hand: int, actor=None, reason: str = DEFAULT_SET_REASON) -> Stock:
    """Set the units on hand of a variant (a recount, the initial stock), creating its stock record
    if it has none. Records a StockMovement and publishes ``inventory.stock_changed`` when the count
    changes. Raises StockConflict when ``on_hand`` is below the units reserved."""
    on_hand = _clean_count(on_hand, "on_hand", minimum=0)
    reason = _clean_reason(reason)
    # get_or_create with a locking queryset: the get takes the row lock; a concurrent create of the
    # same row makes the insert fail, and get_or_create then gets (and locks) the winner's row.
    stock, created = Stock.objects.select_for_update().get_or_create(variant=variant, defaults={"sku": variant.sku})
    return _write(stock, on_hand=on_hand, reason=reason, actor=actor, created=created)


@transaction.atomic
def stock_adjust(*, sku: str, delta: int, reason: str, actor=None) -> Stock:
    """Add ``delta`` units on hand (a delivery) or remove them (damage, loss), with a reason.

    Creates the stock record of a variant that has none. Raises StockNotFound for an unknown SKU and
    StockConflict when fewer units than are reserved would remain.
    """
    delta = _clean_count(delta, "delta", minimum=-MAX_ON_HAND)
    reason = _clean_reason(reason)
    stock = Stock.objects.select_for_update().filter(sku=sku).first()
    created = False
    if stock is None:
        variant = Variant.objects.filter(sku=sku).first()
        if variant is None:
            raise StockNotFound(f"No product variant has the SKU {sku!r}.")
        stock, created = Stock.objects.select_for_update().get_or_create(variant=variant, defaults={"sku": sku})
    on_hand = stock.on_hand + delta
    if on_hand > MAX_ON_HAND:
        raise ValidationError({"delta": [f"There can be at most {MAX_ON_HAND:,} units on hand."]})
    return _write(stock, on_hand=on_hand, reason=reason, actor=actor, created=created)


# --- reservations ----------------------------------------------------------------------------------


def _reservation_ttl(ttl: timedelta | None) -> timedelta:
    if ttl is None:
        ttl = getattr(settings, "INVENTORY_RESERVATION_TTL", RESERVATION_TTL)
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise ValidationError({"ttl": ["A reservation is held for a positive length of time."]})
    return ttl


def _clean_key(key: str) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValidationError({"key": [f"An idempotency key has 1 to {KEY_MAX_LENGTH} characters."]})
    return key


def _sum_per_sku(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """The quantity wanted of each SKU: a SKU on two lines is one line of their sum, so it is checked
    against its availability once, for the whole amount."""
    wanted: dict[str, int] = {}
    for sku, quantity in lines:
        if not isinstance(sku, str) or not sku:
            raise ValidationError({"lines": ["Each line names a SKU."]})
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_ON_HAND:
            raise ValidationError({"lines": [f"{sku}: a quantity is a whole number from 1 to {MAX_ON_HAND:,}."]})
        wanted[sku] = wanted.get(sku, 0) + quantity
    if not wanted:
        raise ValidationError({"lines": ["A reservation holds at least one line."]})
    if any(quantity > MAX_ON_HAND for quantity in wanted.values()):
        raise ValidationError({"lines": [f"At most {MAX_ON_HAND:,} units of one SKU."]})
    return wanted


def _lock_stocks(**filters) -> list[Stock]:
    """The matching stock rows, locked in SKU order: every path takes its locks in this one order, so
    two transactions wanting the same rows queue instead of deadlocking."""
    return list(Stock.objects.select_for_update().filter(**filters).order_by("sku"))


def _guarded_update(quantities: dict[int, int], *, guard, updated_at, **changes) -> int:
    """One UPDATE of several stock rows (``quantities``: units per stock id): each row changes only
    when ``guard(units)`` holds for it, each column of ``changes`` set to ``changes[column](units)``.
    Returns how many rows changed. Call holding the rows' locks (``_lock_stocks``), inside a savepoint
    or transaction, so a CHECK violation undoes every row."""
    if not quantities:
        return 0
    condition = Q()
    for stock_id, quantity in quantities.items():
        condition |= Q(pk=stock_id) & guard(quantity)
    values = {
        column: Case(*(When(pk=stock_id, then=value(quantity)) for stock_id, quantity in quantities.items()))
        for column, value in changes.items()
    }
    return Stock.objects.filter(condition).update(**values, updated_at=updated_at)


def _not_updated(stocks: list[Stock], updated_at) -> list[str]:
    """The SKUs of ``stocks`` that a ``_guarded_update`` stamped ``updated_at`` left out (its guard failed)."""
    return list(
        Stock.objects.filter(pk__in=[stock.pk for stock in stocks])
        .exclude(updated_at=updated_at)
        .order_by("sku")
        .values_list("sku", flat=True)
    )


def _lock_reservation(reservation_id: int) -> Reservation:
    # The reservation row is always locked before its stock rows (and creation inserts it first).
    reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFound(f"No reservation has the id {reservation_id!r}.")
    return reservation


def reservation_create(*, key: str, lines: Sequence[tuple[str, int]], ttl: timedelta | None = None) -> Reservation:
    """Hold stock for every line or for none, until ``ttl`` from now (default
    ``settings.INVENTORY_RESERVATION_TTL``, 10 minutes). Quantities are summed per SKU first.

    Idempotent on ``key`` (for example ``"checkout:<id>"``): a second call with the same key, at once
    or later, returns the first reservation whatever its status and holds nothing more.
    Raises ``OutOfStock`` listing every SKU that is short (unknown SKUs included), ``ValidationError``
    for malformed lines, and ``FlashSaleUnavailable`` when a flash-sale SKU's bucket cannot be reached.

    A flash-sale SKU admits the buyer through its token bucket before the database is touched;
    the tokens go back when the reservation fails here, is released or expires. Call it outside a
    transaction: tokens taken for a reservation that an outer transaction rolls back stay taken until
    the reconciliation task (fewer buyers admitted for a minute, never more units sold).
    """
    key = _clean_key(key)
    wanted = _sum_per_sku(lines)
    ttl = _reservation_ttl(ttl)
    existing = Reservation.objects.filter(key=key).first()
    if existing is not None:
        return existing
    # An unlocked look first: the stock ids (so the lines are written before the rows are locked, and
    # the lock is held for as short a time as possible), which SKUs are in a flash sale, unknown SKUs.
    known = {
        sku: (stock_id, flash_sale, available)
        for sku, stock_id, flash_sale, available in Stock.objects.filter(sku__in=list(wanted)).values_list(
            "sku", "pk", "flash_sale", F("on_hand") - F("reserved")
        )
    }
    if len(known) < len(wanted):
        raise OutOfStock(sku for sku, quantity in wanted.items() if sku not in known or known[sku][2] < quantity)
    admitted = _flash_sale_admit_all({sku: wanted[sku] for sku, (_, flash_sale, _) in known.items() if flash_sale})
    try:
        reservation, created = _reserve(
            key=key, wanted={known[sku][0]: (sku, quantity) for sku, quantity in wanted.items()}, ttl=ttl
        )
    except BaseException:
        _flash_sale_give_back(admitted)
        raise
    if not created:  # a concurrent call with this key won; its own tokens paid for it
        _flash_sale_give_back(admitted)
    return reservation


@transaction.atomic
def _reserve(*, key: str, wanted: dict[int, tuple[str, int]], ttl: timedelta) -> tuple[Reservation, bool]:
    """Hold ``wanted`` ((sku, quantity) per stock id) for a new reservation with this key."""
    now = timezone.now()
    try:
        with transaction.atomic():
            # Inserted first: a concurrent call with the same key waits here on the unique index
            # until this transaction ends, then finds the key taken.
            reservation = Reservation.objects.create(key=key, expires_at=now + ttl)
    except IntegrityError:
        return Reservation.objects.get(key=key), False
    stocks = _lock_stocks(pk__in=list(wanted))
    short = [stock.sku for stock in stocks if stock.available < wanted[stock.pk][1]]
    if short or len(stocks) < len(wanted):  # fewer rows: a variant deleted meanwhile
        raise OutOfStock(short or [sku for stock_id, (sku, _) in wanted.items()])
    quantities = {stock.pk: wanted[stock.pk][1] for stock in stocks}
    try:
        # One UPDATE for every row. The second guard: even a row read without its lock cannot be
        # over-reserved here (a row failing it is left out, and the count says so).
        updated = _guarded_update(
            quantities,
            guard=lambda quantity: Q(on_hand__gte=F("reserved") + quantity),
            reserved=lambda quantity: F("reserved") + quantity,
            updated_at=now,
        )
    except IntegrityError as exc:  # the third guard, the CHECK constraint
        raise OutOfStock([stock.sku for stock in stocks]) from exc
    if updated != len(stocks):
        raise OutOfStock(_not_updated(stocks, now))
    for stock in stocks:
        stock.reserved += quantities[stock.pk]
    # The lines go in after the lock, not before: their foreign-key check takes a KEY SHARE lock on the
    # stock rows, and two transactions each holding one while asking for FOR UPDATE would deadlock.
    ReservationLine.objects.bulk_create(
        ReservationLine(reservation=reservation, stock=stock, sku=stock.sku, quantity=wanted[stock.pk][1])
        for stock in stocks
    )
    for stock in stocks:
        _stock_changed(stock)
    return reservation, True


def _return_held_units(reservation: Reservation) -> None:
    """Give a held reservation's units back to the available stock. Call holding the reservation's lock."""
    lines = {line.stock_id: line for line in reservation.lines.all()}
    now = timezone.now()
    flash_sale_units = {}
    stocks = _lock_stocks(pk__in=list(lines))
    # Unconditional on purpose (one UPDATE): the CHECK (reserved >= 0) refuses a release of units never held.
    _guarded_update(
        {stock.pk: lines[stock.pk].quantity for stock in stocks},
        guard=lambda quantity: Q(),
        reserved=lambda quantity: F("reserved") - quantity,
        updated_at=now,
    )
    for stock in stocks:
        quantity = lines[stock.pk].quantity
        stock.reserved -= quantity
        _stock_changed(stock)
        if stock.flash_sale:
            flash_sale_units[stock.sku] = quantity
    if flash_sale_units:
        transaction.on_commit(lambda: _flash_sale_give_back(flash_sale_units))


@transaction.atomic
def reservation_release(*, reservation_id: int) -> Reservation:
    """The buyer gave up (or the checkout failed): the held units are available again at once.
    Idempotent: a reservation that is no longer held (released, expired or committed) is returned as it is."""
    reservation = _lock_reservation(reservation_id)
    if reservation.status != Reservation.Status.HELD:
        return reservation
    _return_held_units(reservation)
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    return reservation


def reservations_expire(*, now=None) -> int:
    """Release every held reservation whose ``expires_at`` has passed (status ``expired``); returns
    how many. Each in its own short transaction; one that a payment or release holds at the moment is
    skipped (SKIP LOCKED) and looked at again on the next run if it is still held."""
    now = now or timezone.now()
    due = list(
        Reservation.objects.filter(status=Reservation.Status.HELD, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )
    expired = 0
    for reservation_id in due:
        with transaction.atomic():
            reservation = (
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(pk=reservation_id, status=Reservation.Status.HELD, expires_at__lte=now)
                .first()
            )
            if reservation is None:
                continue
            _return_held_units(reservation)
            reservation.status = Reservation.Status.EXPIRED
            reservation.save(update_fields=["status", "updated_at"])
            expired += 1
    if expired:
        logger.info("inventory: %d reservations expired", expired)
    return expired


@transaction.atomic
def reservation_commit(*, reservation_id: int) -> Reservation:
    """The payment succeeded: the reserved units leave the shop (``on_hand`` and ``reserved`` both
    fall; a StockMovement "sold" per SKU). Committing twice commits once.

    A reservation that was released or expired meanwhile is reserved again first, if every unit is
    still available; otherwise ``ReservationLapsed`` (listing the short SKUs) and nothing changes.
    """
    reservation = _lock_reservation(reservation_id)
    if reservation.status == Reservation.Status.COMMITTED:
        return reservation
    held = reservation.status == Reservation.Status.HELD
    lines = {line.stock_id: line for line in reservation.lines.all()}
    stocks = _lock_stocks(pk__in=list(lines))
    if not held:
        short = [stock.sku for stock in stocks if stock.available < lines[stock.pk].quantity]
        if short:
            raise ReservationLapsed(short)
    now = timezone.now()
    quantities = {stock.pk: lines[stock.pk].quantity for stock in stocks}
    if held:  # the units are ours: they leave on_hand and reserved together
        changes = {"on_hand": lambda q: F("on_hand") - q, "reserved": lambda q: F("reserved") - q}
        guard = lambda q: Q(reserved__gte=q)  # noqa: E731
    else:  # lapsed: take them from what is available, as a new reservation would
        changes = {"on_hand": lambda q: F("on_hand") - q}
        guard = lambda q: Q(on_hand__gte=F("reserved") + q)  # noqa: E731
    try:
        updated = _guarded_update(quantities, guard=guard, **changes, updated_at=now)  # one UPDATE for all rows
    except IntegrityError as exc:
        raise ReservationLapsed([stock.sku for stock in stocks]) from exc
    if updated != len(stocks):
        raise ReservationLapsed(_not_updated(stocks, now))
    movements = []
    for stock in stocks:
        quantity = quantities[stock.pk]
        stock.on_hand -= quantity
        if held:
            stock.reserved -= quantity
        movements.append(StockMovement(stock=stock, delta=-quantity, on_hand_after=stock.on_hand, reason=SOLD_REASON))
        _stock_changed(stock)
    StockMovement.objects.bulk_create(movements)
    reservation.status = Reservation.Status.COMMITTED
    reservation.save(update_fields=["status", "updated_at"])
    if not held:  # the tokens of a lapsed reservation went back to the bucket; these units are gone again
        _after_commit_reconcile([stock.sku for stock in stocks if stock.flash_sale])
    return reservation


# --- flash sales ---------------------------------------------------------------------------------
# A flash-sale SKU's buyers take a token from a Redis bucket (one atomic Lua script) before they may
# try the database, so thousands of buyers for a hundred units make about a hundred reservation
# attempts, not thousands of transactions queueing on one row lock. The database stays the authority:
# a token is a ticket to try, never a unit.


def _bucket(sku: str, operation, *args) -> int:
    try:
        return operation(sku, *args)
    except token_bucket.BucketUnavailable as exc:
        raise FlashSaleUnavailable(sku) from exc


@transaction.atomic
def flash_sale_open(*, sku: str) -> int:
    """Put a SKU in flash-sale mode: its bucket holds as many tokens as units are available now.
    Returns that number. Raises StockNotFound, or FlashSaleUnavailable (and stays closed) without Redis."""
    stocks = _lock_stocks(sku=sku)
    if not stocks:
        raise StockNotFound(f"No stock record has the SKU {sku!r}.")
    stock = stocks[0]
    Stock.objects.filter(pk=stock.pk).update(flash_sale=True, updated_at=timezone.now())
    # Set while holding the row lock, so no reservation changes the count between the read and the set.
    return _bucket(sku, token_bucket.set_tokens, stock.available)


@transaction.atomic
def flash_sale_close(*, sku: str) -> None:
    """Back to normal checkout for this SKU; its bucket is removed after commit (a bucket left behind
    by a Redis outage is harmless: only SKUs marked in flash-sale mode consult it)."""
    Stock.objects.filter(sku=sku).update(flash_sale=False, updated_at=timezone.now())

    def remove_bucket() -> None:
        try:
            token_bucket.delete(sku)
        except token_bucket.BucketUnavailable:
            logger.warning("inventory: could not remove the flash-sale bucket of %s", sku)

    transaction.on_commit(remove_bucket)


def flash_sale_admit(*, sku: str, quantity: int) -> bool:
    """Take ``quantity`` tokens from the SKU's bucket, atomically: True when taken, False when fewer
    are left (the bucket never goes below zero). The admitted buyer then reserves through
    ``reservation_create``, which gives the tokens back if it fails. Raises FlashSaleUnavailable
    without Redis. A bucket Redis lost (restart) is rebuilt once from the database."""
    taken = _bucket(sku, token_bucket.take, quantity)
    if taken == token_bucket.NO_BUCKET:
        stock = Stock.objects.filter(sku=sku, flash_sale=True).first()
        if stock is None:
            return False  # not in flash-sale mode: nothing to admit through
        _bucket(sku, token_bucket.init_tokens, stock.available)  # set-if-absent: one rebuild wins
        taken = _bucket(sku, token_bucket.take, quantity)
        if taken == token_bucket.NO_BUCKET:  # gone again at once (Redis flushed under us): not "sold out"
            raise FlashSaleUnavailable(sku)
    return taken == 1


@transaction.atomic
def flash_sale_reconcile(*, sku: str) -> int | None:
    """Set the SKU's bucket to the units the database has available (the database is the authority):
    drift comes from buyers admitted whose reservation was made or undone outside the bucket's view.
    Returns the tokens set, or None when the SKU is not in flash-sale mode."""
    stocks = _lock_stocks(sku=sku, flash_sale=True)
    if not stocks:
        return None
    return _bucket(sku, token_bucket.set_tokens, stocks[0].available)


def _flash_sale_admit_all(wanted: dict[str, int]) -> dict[str, int]:
    """Admit the buyer for every flash-sale SKU in ``wanted``, or for none (OutOfStock)."""
    admitted: dict[str, int] = {}
    refused = []
    try:
        for sku in sorted(wanted):
            if flash_sale_admit(sku=sku, quantity=wanted[sku]):
                admitted[sku] = wanted[sku]
            else:
                refused.append(sku)
    except FlashSaleUnavailable:
        _flash_sale_give_back(admitted)
        raise
    if refused:
        _flash_sale_give_back(admitted)
        raise OutOfStock(refused)
    return admitted


def _flash_sale_give_back(units: dict[str, int]) -> None:
    for sku, quantity in units.items():
        try:
            token_bucket.give(sku, quantity)
        except token_bucket.BucketUnavailable:
            # Fewer buyers admitted than there are units until the reconciliation task runs: safe.
            logger.warning("inventory: %s tokens of %s not returned (Redis unavailable)", quantity, sku)


def _after_commit_reconcile(skus: list[str]) -> None:
    def reconcile() -> None:
        for sku in skus:
            try:
                flash_sale_reconcile(sku=sku)
            except FlashSaleUnavailable:
                logger.warning("inventory: flash-sale bucket of %s not reconciled (Redis unavailable)", sku)

    if skus:
        transaction.on_commit(reconcile)


# --- for orders: holding a reservation while a payment is in flight, restocking cancelled sales ---


@transaction.atomic(savepoint=False)  # nothing to undo in part: the caller's transaction, when there is one
def reservation_extend(*, reservation_id: int, expires_at) -> Reservation:
    """Hold a reservation at least until ``expires_at`` (a payment is in flight and its outcome may
    come late: the units must not go back on sale meanwhile). Never shortens; a reservation that is
    no longer held is returned as it is (``reservation_commit`` can still take its units back)."""
    reservation = _lock_reservation(reservation_id)
    if reservation.status == Reservation.Status.HELD and reservation.expires_at < expires_at:
        reservation.expires_at = expires_at
        reservation.save(update_fields=["expires_at", "updated_at"])
    return reservation


RESTOCK_KEY_MARK = " #"  # the reason of a restock movement ends with " #<key>": how a repeat is recognised


@transaction.atomic
def stock_restock(*, lines: Sequence[tuple[str, int]], reason: str, key: str) -> list[Stock]:
    """Put sold units back on hand (a cancelled sub-order whose goods never left the seller), one
    StockMovement per SKU whose reason ends with ``#<key>``. Idempotent on ``key`` (for example
    ``"sub-order:12:cancel"``): a second call finds the movements of the first under the rows' locks
    and changes nothing. SKUs whose stock record was deleted since are skipped."""
    key = _clean_key(key)
    wanted = _sum_per_sku(lines)
    full_reason = f"{_clean_reason(reason)}{RESTOCK_KEY_MARK}{key}"[:REASON_MAX_LENGTH]
    stocks = _lock_stocks(sku__in=list(wanted))
    if StockMovement.objects.filter(stock__in=stocks, reason=full_reason).exists():
        return stocks
    movements = []
    now = timezone.now()
    for stock in stocks:
        quantity = wanted[stock.sku]
        if stock.on_hand + quantity > MAX_ON_HAND:
            raise ValidationError({"lines": [f"{stock.sku}: there can be at most {MAX_ON_HAND:,} units on hand."]})
        Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity, updated_at=now)
        stock.on_hand += quantity
        movements.append(StockMovement(stock=stock, delta=quantity, on_hand_after=stock.on_hand, reason=full_reason))
        _stock_changed(stock)
    StockMovement.objects.bulk_create(movements)
    if any(stock.flash_sale for stock in stocks):
        _after_commit_reconcile([stock.sku for stock in stocks if stock.flash_sale])
    return stocks

"""``manage.py seed_demo``: idempotent demo data (staff user, buyers, sellers, a category tree).

Running it twice changes nothing the second time; ``--once`` returns at once when the demo data is
already there (``make run`` uses it). It refuses to run with production settings.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services as account_services
from backoffice import demo_data, seeding
from cart import services as cart_services
from catalog import services as catalog_services
from catalog.models import Category, Product, Variant
from catalog.selectors import listed_products
from orders import services as order_services
from orders.models import Order
from promotions import services as promotion_services
from sellers import services as seller_services
from sellers.models import Seller

DEMO_ORDER_KEY = "demo-order-"  # the Idempotency-Key prefix of the demo orders' checkouts


class Command(BaseCommand):
    help = "Load demo data: a staff user, buyers, approved sellers and a three-level category tree."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Do nothing when the demo data is already loaded.")
        parser.add_argument(
            "--products",
            type=int,
            default=0,
            metavar="N",
            help="Make sure there are N demo products (bulk COPY: 1,000,000 take a few minutes).",
        )

    def handle(self, *args, once: bool, products: int, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with production settings.")
        User = get_user_model()
        if (
            once
            and User.objects.filter(email=demo_data.STAFF["email"]).exists()
            and Category.objects.exists()
            and Product.objects.count() >= products
        ):
            self.stdout.write("Demo data already loaded (seed_demo --once): nothing to do.")
            return

        self.step("Accounts")
        staff = self.user(demo_data.STAFF, is_staff=True, is_superuser=True)
        for buyer in demo_data.BUYERS:
            self.user(buyer)
        self.done(f"staff {staff.email}, {len(demo_data.BUYERS)} buyers")

        self.step("Sellers")
        for entry in demo_data.SELLERS:
            self.seller(entry)
        self.done(f"{Seller.objects.filter(status=Seller.Status.APPROVED).count()} approved sellers")

        self.step("Categories")
        created = 0
        with transaction.atomic():
            for i, (root_name, children) in enumerate(demo_data.CATEGORY_TREE.items()):
                root, new = catalog_services.category_get_or_create(name=root_name, position=i)
                created += new
                for j, (child_name, leaves) in enumerate(children.items()):
                    child, new = catalog_services.category_get_or_create(name=child_name, parent=root, position=j)
                    created += new
                    for k, leaf_name in enumerate(leaves):
                        _, new = catalog_services.category_get_or_create(name=leaf_name, parent=child, position=k)
                        created += new
                self.stdout.write(f"  {i + 1}/{len(demo_data.CATEGORY_TREE)} {root_name}")
        self.done(f"{Category.objects.count()} categories ({created} new)")

        if products:
            self.step(f"Products (bulk load to {products:,})")
            report = seeding.seed_products(target=products, progress=lambda line: self.stdout.write(f"  {line}"))
            if report.products:
                seeding.rebuild_derived_data(progress=lambda line: self.stdout.write(f"  {line}"))
                rate = report.products / report.seconds if report.seconds else 0
                took = f"{report.seconds:.0f}s ({rate:,.0f}/s)"
                self.done(f"{report.products:,} products, {report.variants:,} variants in {took}")

        self.step("Coupons and demo orders")
        coupons = promotion_services.demo_coupons_ensure()
        self.done(f"coupons {', '.join(c.code for c in coupons)}; {self.demo_orders()} demo orders placed")

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"  staff admin: {demo_data.STAFF['email']} / {demo_data.STAFF['password']}\n"
            f"  buyers:      {demo_data.BUYERS[0]['email']} … / {demo_data.BUYERS[0]['password']}\n"
            f"  sellers:     {demo_data.SELLERS[0]['email']} … / {demo_data.SELLER_PASSWORD}"
        )

    def step(self, name: str) -> None:
        self.stdout.write(f"{name}…")

    def done(self, summary: str) -> None:
        self.stdout.write(f"  ✓ {summary}")

    def user(self, entry: dict, **flags):
        User = get_user_model()
        user = User.objects.filter(email=entry["email"]).first()
        if user is None:
            fields = {k: v for k, v in entry.items() if k not in {"email", "password"}}
            user = User.objects.create_user(
                entry["email"], entry.get("password", demo_data.SELLER_PASSWORD), **fields, **flags
            )
        return user

    def demo_orders(self) -> int:
        """DEMO_ORDERS through the real checkout (cart, reservation, sandbox payment), then moved to
        their status. Skipped for a buyer who has orders already, so a second run adds none."""
        User = get_user_model()
        variants = list(
            Variant.objects.filter(is_active=True, stock__on_hand__gte=20, product__in=listed_products())
            .select_related("product")
            .order_by("product__seller_id", "id")[:200]
        )
        by_seller: dict[int, list[Variant]] = {}
        for variant in variants:
            by_seller.setdefault(variant.product.seller_id, []).append(variant)
        if not by_seller:
            return 0  # no products yet (seed_demo --products N adds them)
        if Order.objects.filter(checkout__idempotency_key__startswith=DEMO_ORDER_KEY).exists():
            return 0  # placed by an earlier run
        shelves = list(by_seller.values())
        placed = 0
        for index, (email, status, lines) in enumerate(demo_data.DEMO_ORDERS):
            buyer = User.objects.get(email=email)
            if not buyer.addresses.exists():
                account_services.address_create(user=buyer, **{**demo_data.DEMO_ADDRESS, "full_name": buyer.full_name})
            owner = cart_services.CartOwner(user=buyer)
            cart_services.cart_clear(owner=owner)
            for n in range(lines):
                shelf = shelves[(index + n) % len(shelves)]
                cart_services.cart_line_add(owner=owner, sku=shelf[index % len(shelf)].sku, quantity=1)
            key = f"demo-order-{index}"
            checkout, _ = order_services.checkout_start(user=buyer, idempotency_key=key, shipping_method="standard")
            result = order_services.checkout_pay(
                user=buyer,
                checkout_id=checkout.pk,
                idempotency_key=key,
                token="tok_visa",  # noqa: S106
            )
            cart_services.cart_clear(owner=owner)
            if result.order is None or result.status_code not in (200, 201):
                continue
            self.move(result.order, status)
            placed += 1
        return placed

    def move(self, order, status: str) -> None:
        if status == "cancelled":
            order_services.order_cancel(order=order, reason="demo: cancelled by the buyer")
            return
        for sub_order in order.sub_orders.all():
            if status == "processing":
                order_services.sub_order_process(sub_order=sub_order)
            if status in ("shipped", "delivered"):
                order_services.sub_order_ship(
                    sub_order=sub_order, carrier="DHL", tracking_number=f"JD{sub_order.pk:010d}"
                )
            if status == "delivered":
                order_services.sub_order_deliver(sub_order=sub_order)
        if status == "delivered":
            line = order.sub_orders.first().lines.first()
            order_services.return_request(
                order=order, lines=[{"sku": line.sku, "quantity": 1}], reason="demo: wrong size"
            )

    def seller(self, entry: dict) -> Seller:
        user = self.user({"email": entry["email"], "full_name": entry["store_name"]})
        seller = Seller.objects.filter(user=user).first() or seller_services.seller_apply(
            user=user, store_name=entry["store_name"], description=entry["description"]
        )
        return seller_services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)

"""``manage.py seed_demo``: idempotent demo data (staff user, buyers, sellers, a category tree).

Running it twice changes nothing the second time; ``--once`` returns at once when the demo data is
already there (``make run`` uses it). It refuses to run with production settings.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice import demo_data, seeding
from catalog import services as catalog_services
from catalog.models import Category, Product
from sellers import services as seller_services
from sellers.models import Seller


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

    def seller(self, entry: dict) -> Seller:
        user = self.user({"email": entry["email"], "full_name": entry["store_name"]})
        seller = Seller.objects.filter(user=user).first() or seller_services.seller_apply(
            user=user, store_name=entry["store_name"], description=entry["description"]
        )
        return seller_services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)

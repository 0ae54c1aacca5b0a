import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from backoffice import demo_data
from catalog.models import Category
from sellers.models import Seller

pytestmark = pytest.mark.django_db


def counts():
    return (get_user_model().objects.count(), Seller.objects.count(), Category.objects.count())


def test_seed_demo_is_idempotent_and_reports_progress(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first

    out = capsys.readouterr().out
    assert "12/12 Automotive" in out
    assert "Demo data ready." in out
    staff = get_user_model().objects.get(email=demo_data.STAFF["email"])
    assert staff.is_staff
    assert staff.check_password(demo_data.STAFF["password"])
    assert Seller.objects.filter(status=Seller.Status.APPROVED).count() == len(demo_data.SELLERS)
    assert Category.objects.filter(depth=2).count() == 4 * 4 * len(demo_data.CATEGORY_TREE)
    assert Category.objects.get(path="electronics/phones/smartphones").parent.path == "electronics/phones"


def test_seed_demo_once_skips_when_loaded(capsys):
    call_command("seed_demo")
    call_command("seed_demo", "--once")
    assert "already loaded" in capsys.readouterr().out


def test_seed_demo_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_bulk_product_seed_is_consistent_and_idempotent(capsys):
    from django.core.files.storage import default_storage

    from backoffice import seeding
    from catalog.models import Product, ProductImage, Variant
    from inventory.models import Stock
    from shop.core.models import OutboxEvent

    call_command("seed_demo")
    lines = []
    report = seeding.seed_products(target=60, progress=lines.append, photos_per_palette=1)
    assert report.products == 60
    assert Product.objects.count() == 60
    assert Variant.objects.count() == report.variants == Stock.objects.count()
    assert ProductImage.objects.count() == 60
    # every product is complete: lowest price denormalized, a primary image with renditions on disk
    for product in Product.objects.select_related("primary_image").prefetch_related("variants"):
        assert product.price == min(v.price for v in product.variants.all())
        assert product.primary_image.product_id == product.pk
        assert default_storage.exists(product.primary_image.renditions["thumbnail"]["webp"])
    assert len({p.slug for p in Product.objects.all()}) == 60
    assert not OutboxEvent.objects.filter(name__startswith="catalog.").exists()  # bulk seeding writes no events
    assert any("60/60 products" in line for line in lines)

    assert seeding.seed_products(target=60, progress=lines.append, photos_per_palette=1).products == 0
    # ids keep working for rows made afterwards the ordinary way
    from catalog.tests.factories import ProductFactory

    assert ProductFactory().pk > max(Product.objects.exclude(slug__startswith="product-").values_list("pk", flat=True))


def test_seed_demo_places_demo_orders_in_every_state_once(capsys, settings):
    from backoffice import seeding
    from orders.models import Order, Return, SubOrder
    from orders.tests.factories import shipping_methods_ensure
    from promotions.models import Coupon

    settings.PAYMENT_GATEWAYS = ["sandbox"]
    shipping_methods_ensure()
    call_command("seed_demo")
    assert Order.objects.count() == 0  # no products yet: no orders, but the coupons
    assert Coupon.objects.filter(code="WELCOME10").exists()
    seeding.seed_products(target=40, progress=lambda line: None, photos_per_palette=1)

    call_command("seed_demo")
    call_command("seed_demo")

    placed = Order.objects.filter(checkout__idempotency_key__startswith="demo-order-")
    assert placed.count() == len(demo_data.DEMO_ORDERS)
    statuses = set(SubOrder.objects.filter(order__in=placed).values_list("status", flat=True))
    assert statuses == {"confirmed", "processing", "shipped", "delivered", "cancelled"}
    assert Return.objects.filter(order__in=placed, status="requested").count() == 2

"""The shop the browser tests walk through, made through the real services as a seller would make it:
sellers who apply and are approved, products with variants and real images (processed by the Celery
task, eager in tests), stock set through inventory, a buyer account, the shipping methods and a tax
rule staff would enter, and the demo coupons (WELCOME10: 10% off). The outbox delivers the events
(search documents, cached pages, emails) after each commit, as in production.

Orders for the journeys that start from one (a seller ships it, a buyer cancels it) are placed with
:func:`order_place`: the real checkout (cart, reservation, sandbox payment), as the buyer would.

The tests get plain values (:class:`Listed`), never model instances: the browser's thread may not touch
the ORM.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

PASSWORD = "a long and unguessable passphrase 42"  # noqa: S105 (test accounts only)


@dataclass(frozen=True)
class Listed:
    """A product as the tests know it: plain values, safe to use in the browser's thread."""

    title: str
    url: str
    brand: str
    category: str
    skus: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    tee: Listed  # Organic Cotton T-shirt: size x colour, one combination sold out
    merino: Listed  # another Northwind T-shirt (the brand facet keeps both)
    linen: Listed  # a Southpaw T-shirt (the brand facet drops it)
    mug: Listed  # in another category, with one variant
    seller_email: str  # Northwind Goods: the tee and the merino
    other_seller_email: str  # Harbour Home: the linen T-shirt and the mug
    buyer_email: str  # a buyer with an account, a saved address and no cart
    password: str


# The side of the product pictures, in pixels. Small enough that the renditions (320 px thumbnail,
# medium and large capped at this size: never scaled up) are made quickly in every test.
PICTURE_SIDE = 480


def _picture(colour: tuple[int, int, int], name: str, shape: str):
    """A real PNG (PICTURE_SIDE square) of a T-shirt or a mug on a light background, as an upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 800), (243, 244, 246))
    draw = ImageDraw.Draw(image)
    shade = tuple(max(0, c - 40) for c in colour)
    if shape == "mug":
        draw.rounded_rectangle((230, 240, 530, 600), radius=28, fill=colour)
        draw.ellipse((480, 320, 640, 500), outline=colour, width=34)
        draw.ellipse((230, 215, 530, 265), fill=shade)
    else:  # a T-shirt: body, sleeves, neckline
        draw.polygon(
            [(270, 150), (340, 130), (400, 170), (460, 130), (530, 150), (680, 260), (610, 350), (560, 310),
             (560, 680), (240, 680), (240, 310), (190, 350), (120, 260)],
            fill=colour,
        )  # fmt: skip
        draw.ellipse((345, 115, 455, 190), fill=(243, 244, 246))
        draw.line([(240, 310), (240, 680)], fill=shade, width=6)
        draw.line([(560, 310), (560, 680)], fill=shade, width=6)
    image = image.resize((PICTURE_SIDE, PICTURE_SIDE), Image.Resampling.LANCZOS)  # drawn at 800, smoothed
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{name}.png", buffer.getvalue(), content_type="image/png")


def _seller(email: str, store_name: str, description: str):
    from accounts import services as accounts_services
    from sellers import services as seller_services
    from sellers.models import Seller

    user = accounts_services.user_register(email=email, password=PASSWORD, full_name=store_name + " owner")
    seller = seller_services.seller_apply(user=user, store_name=store_name, description=description)
    return seller_services.seller_set_status(seller=seller, status=Seller.Status.APPROVED)


def _product(*, seller, category, title, brand, description, variants, stock, colour, shape="tee") -> Listed:
    from catalog import services as catalog_services
    from catalog.models import Product
    from inventory import services as inventory_services

    product = catalog_services.product_create(
        seller=seller,
        title=title,
        category=category,
        description=description,
        brand_name=brand,
        variants=[catalog_services.VariantInput(**variant) for variant in variants],
    )
    for variant, on_hand in zip(product.variants.order_by("position"), stock, strict=True):
        inventory_services.stock_set(variant=variant, on_hand=on_hand, reason="e2e: initial stock")
    catalog_services.product_image_add(product=product, upload=_picture(colour, product.slug, shape), alt_text=title)
    product = Product.objects.get(pk=product.pk)
    return Listed(
        title=title,
        url=f"/p/{product.slug}/",
        brand=brand,
        category=category.name,
        skus=tuple(variant["sku"] for variant in variants),
    )


BUYER_ADDRESS = {
    "full_name": "Rae Buyer",
    "line1": "Torstraße 12",
    "postal_code": "10119",
    "city": "Berlin",
    "country": "DE",
}


def catalogue_create() -> Catalogue:
    """Two approved sellers and their products in two categories, with stock and processed images,
    made through the services (the outbox delivers their events: search documents, pages); the
    shipping methods, VAT for Germany and the demo coupons; and one buyer account with an address."""
    from accounts import services as accounts_services
    from catalog import services as catalog_services
    from orders.models import TaxRate
    from orders.tests.factories import shipping_methods_ensure
    from promotions import services as promotion_services

    shipping_methods_ensure()  # seeded by a migration, which the emptied test database lost
    TaxRate.objects.get_or_create(country="DE", category=None, defaults={"rate": Decimal("0.19"), "name": "VAT 19%"})
    promotion_services.demo_coupons_ensure()

    clothing, _ = catalog_services.category_get_or_create(name="Clothing", position=1)
    tees, _ = catalog_services.category_get_or_create(name="T-shirts", parent=clothing, position=1)
    home, _ = catalog_services.category_get_or_create(name="Home & Kitchen", slug="home", position=2)
    mugs, _ = catalog_services.category_get_or_create(name="Mugs", parent=home, position=1)

    northwind = _seller("orders@northwind.example", "Northwind Goods", "Organic basics, made to last.")
    harbour = _seller("hello@harbour.example", "Harbour Home", "Things for the kitchen and the table.")

    size_colour = [
        {"size": size, "colour": colour} for colour in ("Blue", "Green") for size in ("S", "M", "L")
    ]  # fmt: skip
    tee = _product(
        seller=northwind,
        category=tees,
        title="Organic Cotton T-shirt",
        brand="Northwind",
        description="A soft, heavy organic cotton T-shirt with a relaxed fit.",
        variants=[
            {"sku": f"NW-TEE-{v['colour'][0]}{v['size']}", "price": Decimal("24.00"), "attributes": v}
            for v in size_colour
        ],
        stock=[5, 8, 3, 4, 6, 0],  # Green L is sold out
        colour=(37, 99, 235),
    )
    merino = _product(
        seller=northwind,
        category=tees,
        title="Merino T-shirt",
        brand="Northwind",
        description="A fine merino wool T-shirt for warm days and cool evenings.",
        variants=[{"sku": "NW-MERINO-M", "price": Decimal("49.00"), "attributes": {"size": "M"}}],
        stock=[7],
        colour=(71, 85, 105),
    )
    linen = _product(
        seller=harbour,
        category=tees,
        title="Linen T-shirt",
        brand="Southpaw",
        description="A light linen T-shirt, garment-washed.",
        variants=[{"sku": "SP-LINEN-M", "price": Decimal("29.00"), "attributes": {"size": "M"}}],
        stock=[9],
        colour=(202, 138, 4),
    )
    mug = _product(
        seller=harbour,
        category=mugs,
        title="Stoneware Mug",
        brand="Harbour",
        description="A hand-glazed stoneware mug that holds 350 ml.",
        variants=[{"sku": "HB-MUG", "price": Decimal("14.50"), "compare_at_price": Decimal("18.00")}],
        stock=[20],
        colour=(22, 163, 74),
        shape="mug",
    )
    buyer = accounts_services.user_register(email="regular@buyer.example", password=PASSWORD, full_name="Rae Buyer")
    accounts_services.address_create(user=buyer, **BUYER_ADDRESS)
    return Catalogue(
        tee=tee,
        merino=merino,
        linen=linen,
        mug=mug,
        seller_email=northwind.user.email,
        other_seller_email=harbour.user.email,
        buyer_email=buyer.email,
        password=PASSWORD,
    )


def order_place(*, email: str, items: list[tuple[str, int]], token: str = "tok_visa") -> str:  # noqa: S107
    """Place an order for the account ``email`` through the real checkout: ``items`` ``[(sku,
    quantity)]`` put in its cart, a checkout started (stock reserved) and paid with a sandbox token.
    Returns the order's number. Call it through ``e2e.helpers.orm`` once the browser runs."""
    from accounts.models import User
    from catalog.models import Variant
    from orders.tests.factories import order_through_checkout

    buyer = User.objects.get(email=email)
    variants = {variant.sku: variant for variant in Variant.objects.filter(sku__in=[sku for sku, _ in items])}
    order = order_through_checkout(buyer=buyer, items=[(variants[sku], quantity) for sku, quantity in items])
    return order.number


def available(sku: str) -> int:
    """Units of ``sku`` that can be bought now (on hand minus reserved), from the database."""
    from catalog.models import Variant
    from inventory import selectors

    variant = Variant.objects.get(sku=sku)
    return selectors.availability_for_variants(variant_ids=[variant.pk])[variant.pk]

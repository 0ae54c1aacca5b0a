"""The product import: a good file creates products, variants and stock; a file with a bad row changes
nothing and reports the row; anything but CSV or XLSX is refused."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice import importing
from catalog.models import Product, Variant
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory.models import Stock
from sellers.models import Seller
from sellers.tests.factories import SellerFactory
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db

HEADER = "title,category,brand,description,sku,price,stock,attributes,variant_attributes,status\n"


@pytest.fixture
def categories():
    electronics = CategoryFactory(name="Electronics", slug="electronics")
    phones = CategoryFactory(name="Phones", slug="phones", parent=electronics)
    smartphones = CategoryFactory(
        name="Smartphones",
        slug="smartphones",
        parent=phones,
        attribute_schema=[{"name": "screen_size", "type": "number", "required": True}],
    )
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    return {"smartphones": smartphones, "shoes": shoes}


@pytest.fixture
def seller():
    return SellerFactory()


def csv_file(text: str, name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


GOOD = HEADER + (
    "Pixel Nine,electronics/phones/smartphones,Gogle,A phone.,PX9-128,699.00,5,screen_size=6.3,storage=128GB,active\n"
    "Pixel Nine,electronics/phones/smartphones,,,PX9-256,799.00,3,,storage=256GB,\n"
    'Trail Shoe,shoes,Stridewell,Light.,TS-42,89.90,12,,"{""size"": ""42""}",draft\n'
)


def test_a_good_file_creates_products_variants_and_stock(seller, categories):
    report = importing.import_products(seller=seller, upload=csv_file(GOOD), actor=seller.user)

    assert report.ok, report.errors
    assert (report.products, report.variants) == (2, 3)
    phone = Product.objects.get(title="Pixel Nine")
    assert phone.seller == seller
    assert phone.category == categories["smartphones"]
    assert phone.brand.name == "Gogle"
    assert phone.attributes == {"screen_size": 6.3}
    assert phone.status == Product.Status.ACTIVE
    assert phone.price == Decimal("699.00")
    assert [(v.sku, v.attributes) for v in phone.variants.order_by("position")] == [
        ("PX9-128", {"storage": "128GB"}),
        ("PX9-256", {"storage": "256GB"}),
    ]
    assert dict(Stock.objects.values_list("sku", "on_hand")) == {"PX9-128": 5, "PX9-256": 3, "TS-42": 12}
    shoe = Product.objects.get(title="Trail Shoe")
    assert shoe.status == Product.Status.DRAFT
    assert shoe.variants.get().attributes == {"size": "42"}
    assert OutboxEvent.objects.filter(name="catalog.product_created").count() == 2


def test_a_file_with_one_bad_row_changes_nothing_and_reports_the_row(seller, categories):
    bad = GOOD + "Broken,shoes,,,TS-43,not-a-price,1,,,\n"

    report = importing.import_products(seller=seller, upload=csv_file(bad), actor=seller.user)

    assert not report.ok
    assert list(report.errors) == [5]
    assert any(message.startswith("price:") for message in report.errors[5])
    assert report.products == 0
    assert not Product.objects.exists()
    assert not Variant.objects.exists()
    assert not Stock.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_every_bad_row_is_reported_in_one_pass(seller, categories):
    ProductFactory(variants=0).variants.create(sku="TAKEN-1", price=Decimal("1.00"))
    text = HEADER + (
        "Phone,electronics/phones/smartphones,,,P-1,10.00,1,,,active\n"  # screen_size is required
        "Lamp,nowhere,,,L-1,10.00,1,,,\n"  # no such category
        "Shoe,shoes,,,TAKEN-1,10.00,1,,,\n"  # another product's SKU
        "Shoe 2,shoes,,,S-2,10.00,-4,,,\n"  # negative stock
        "Shoe 3,shoes,,,S-3,10.00,1,colour,,\n"  # attributes that are not name=value
        "Shoe 4,shoes,,,S-4,10.00,1,,,\n"  # fine on its own
        "Shoe 4,shoes,Other Brand,,S-5,10.00,1,,,\n"  # contradicts its first row
    )

    report = importing.import_products(seller=seller, upload=csv_file(text), actor=seller.user)

    assert sorted(report.errors) == [2, 3, 4, 5, 6, 8]
    assert "screen_size" in " ".join(report.errors[2])
    assert report.errors[3][0].startswith("category:")
    assert report.errors[4][0].startswith("sku:")
    assert report.errors[5][0].startswith("stock:")
    assert report.errors[6][0].startswith("attributes:")
    assert "differs from row 7" in report.errors[8][0]
    assert Product.objects.count() == 1  # only the factory's


def test_a_category_can_be_named_by_its_leaf_slug(seller, categories):
    text = HEADER + "Pixel,smartphones,,,PX-1,10.00,,screen_size=6,,\n"

    report = importing.import_products(seller=seller, upload=csv_file(text), actor=seller.user)

    assert report.ok, report.errors
    assert Product.objects.get().category == categories["smartphones"]
    assert Stock.objects.get().on_hand == 0


def test_a_pending_seller_cannot_publish_by_import_but_may_prepare_drafts(categories):
    pending = SellerFactory(status=Seller.Status.PENDING)
    active = HEADER + "Shoe,shoes,,,S-1,10.00,1,,,active\n"
    draft = HEADER + "Shoe,shoes,,,S-1,10.00,1,,,draft\n"

    refused = importing.import_products(seller=pending, upload=csv_file(active), actor=pending.user)
    accepted = importing.import_products(seller=pending, upload=csv_file(draft), actor=pending.user)

    assert list(refused.errors) == [2]
    assert "review" in refused.errors[2][0]
    assert accepted.ok
    assert Product.objects.get().status == Product.Status.DRAFT


def test_semicolon_separated_csv_with_a_bom_and_any_header_case(seller, categories):
    text = "\ufeffTitle;Category;SKU;Price;Variant Attributes\nShoe;shoes;S-1;10,00;size=40\n".replace("10,00", "10.00")

    report = importing.import_products(seller=seller, upload=csv_file(text), actor=seller.user)

    assert report.ok, report.errors
    assert Variant.objects.get().attributes == {"size": "40"}


def test_an_xlsx_workbook_imports_like_a_csv(seller, categories):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["title", "category", "sku", "price", "stock", "attributes"])
    sheet.append(["Pixel Nine", "electronics/phones/smartphones", "PX9-128", 699, 5, '{"screen_size": 6.3}'])
    sheet.append(["Pixel Nine", "electronics/phones/smartphones", "PX9-256", 799.5, 3.0, None])
    sheet.append([None, None, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("catalogue.xlsx", buffer.getvalue())

    report = importing.import_products(seller=seller, upload=upload, actor=seller.user)

    assert report.ok, report.errors
    product = Product.objects.get()
    assert sorted(product.variants.values_list("sku", "price")) == [
        ("PX9-128", Decimal("699.00")),
        ("PX9-256", Decimal("799.50")),
    ]
    assert Stock.objects.get(sku="PX9-256").on_hand == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("catalogue.pdf", b"%PDF-1.4", "not a CSV or XLSX file"),
        ("catalogue.xls", b"\xd0\xcf\x11\xe0", "not a CSV or XLSX file"),
        ("catalogue.xlsx", b"title,category\n", "not an Excel workbook"),
        ("catalogue.xlsx", b"PK\x03\x04broken", "not an Excel workbook"),
        ("catalogue.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "not a text CSV"),
        ("catalogue.csv", "title,category,sku,price\nÉté,shoes,S,1\n".encode("latin-1"), "not UTF-8"),
        ("catalogue.csv", b"", "empty"),
        ("catalogue.csv", b"title,category,sku\n", "Missing column(s): price"),
        ("catalogue.csv", b"title,category,sku,price,colour\n", "Unknown column(s): colour"),
        ("catalogue.csv", b"title,category,sku,price\n", "no rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_message(seller, name, content, message):
    with pytest.raises(importing.ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        importing.import_products(seller=seller, upload=SimpleUploadedFile(name, content), actor=seller.user)


def test_files_over_five_megabytes_are_refused(seller):
    upload = SimpleUploadedFile("big.csv", b"title,category,sku,price\n" + b"x" * importing.MAX_FILE_BYTES)

    with pytest.raises(importing.ImportFileError, match="at most 5 MB"):
        importing.read_rows(upload)


def test_files_over_the_row_limit_are_refused():
    rows = "".join(f"T{i},shoes,S-{i},1.00\n" for i in range(importing.MAX_ROWS + 1))
    upload = csv_file("title,category,sku,price\n" + rows)

    with pytest.raises(importing.ImportFileError, match="more than 1,000 rows"):
        importing.read_rows(upload)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("size=M; colour = Navy ;", {"size": "M", "colour": "Navy"}),
        ('{"screen_size": 6.1, "5g": true}', {"screen_size": 6.1, "5g": True}),
    ],
)
def test_attributes_are_json_or_name_value_pairs(text, expected):
    assert importing.parse_attributes(text) == expected


@pytest.mark.parametrize("text", ["size", "size=M;size=L", "{not json", "[1, 2]"])
def test_attributes_that_are_neither_are_refused(text):
    with pytest.raises(ValueError, match=r"name=value|twice|JSON"):
        importing.parse_attributes(text)


def test_the_example_file_imports(seller):
    shoes = CategoryFactory(name="Fashion", slug="fashion")
    shoes = CategoryFactory(name="Shoes", slug="shoes", parent=shoes)
    CategoryFactory(name="Running Shoes", slug="running-shoes", parent=shoes)

    report = importing.import_products(seller=seller, upload=csv_file(importing.example_csv()), actor=seller.user)

    assert report.ok, report.errors
    assert (report.products, report.variants) == (1, 2)


# --- the page in the Seller Centre ------------------------------------------------------------------


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.user)
    return client


def test_the_import_page_imports_and_says_how_much(seller_client, categories):
    url = reverse("seller_admin:import_products")
    assert seller_client.get(url).status_code == 200

    response = seller_client.post(url, {"file": csv_file(GOOD)}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("seller_admin:catalog_product_changelist")
    assert b"Imported 2 products with 3 variants." in response.content
    assert Product.objects.count() == 2


def test_the_import_page_lists_the_bad_rows(seller_client, categories):
    response = seller_client.post(
        reverse("seller_admin:import_products"), {"file": csv_file(GOOD + "Broken,shoes,,,TS-43,-1,1,,,\n")}
    )

    assert response.status_code == 200
    assert response.context["report"].errors.keys() == {5}
    assert b"Nothing was imported" in response.content
    assert b"<td>5</td>" in response.content
    assert not Product.objects.exists()


def test_the_import_page_refuses_other_files_with_a_message(seller_client):
    response = seller_client.post(
        reverse("seller_admin:import_products"), {"file": SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff")}
    )

    assert response.status_code == 200
    assert b"not a CSV or XLSX file" in response.content


def test_the_example_file_downloads(seller_client):
    response = seller_client.get(reverse("seller_admin:import_example"))

    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"title,category,sku,price")


def test_a_pending_seller_cannot_reach_the_import_page(client):
    pending = SellerFactory(status=Seller.Status.PENDING)
    client.force_login(pending.user)

    response = client.post(reverse("seller_admin:import_products"), {"file": csv_file(GOOD)})

    assert response.status_code == 403
    assert not Product.objects.exists()

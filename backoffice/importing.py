"""Bulk product import for sellers: a CSV or XLSX file in, products with variants and stock out.

The file
--------
One header row, then one row per variant (SKU). Column names are matched without regard to case or
spaces ("Variant attributes" = ``variant_attributes``); columns may come in any order.

=====================  ========  ==============================================================
column                 required  meaning
=====================  ========  ==============================================================
``title``              yes       the product's title
``category``           yes       a category's path (``electronics/phones/smartphones``) or its
                                 slug (``smartphones``) when the slug is unique in the tree
``sku``                yes       the variant's SKU, unique across the marketplace
``price``              yes       the variant's price, such as ``19.99``
``description``                  the product's description
``brand``                        the brand's name (created if new)
``stock``                        units on hand (a whole number; empty is 0)
``attributes``                   the product's attributes, checked against the category's
                                 schema: JSON (``{"screen_size": 6.1}``) or
                                 ``key=value;key=value``
``variant_attributes``           what sets this variant apart (``size=M;colour=Navy``), same forms
``compare_at_price``             the variant's former price, shown struck through
``status``                       ``active`` (the default: visible at once) or ``draft``
=====================  ========  ==============================================================

Several rows with the same ``title`` and ``category`` (compared without regard to case) are one
product with several variants, in the order of the rows. The product's fields (``description``,
``brand``, ``attributes``, ``status``) come from its first row; its other rows may leave them empty
or repeat them, and a different value is an error of that row (so a typo cannot silently split or
merge products).

Throughput: about 10 ms a product on a development machine, so a full 1,000-row file takes some
12 seconds, inside the web workers' 30-second timeout. Larger catalogues are several files (or,
later, a Celery job).

What happens
------------
The whole file is read and checked first (at most 5 MB and 1,000 rows; anything but CSV or XLSX
is refused), then every product is created through ``backoffice.services.seller_product_create``
in ONE transaction, each in its own savepoint so that every bad row is found in one pass. If any
row is bad, everything is rolled back and the report lists each bad row (numbered as a spreadsheet
numbers them: the header is row 1) with its messages; the catalog is unchanged. Otherwise the
report counts the products and variants created.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from backoffice.services import seller_product_create

MAX_FILE_BYTES = 5 * 1024 * 1024  # about 50,000 rows of CSV: ample for 1,000
MAX_ROWS = 1_000  # one transaction inside one request (about 12 s at most); a bigger catalog is several files
# An XLSX is a zip: what it holds unpacked is capped too, so a small file cannot expand to gigabytes.
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 50  # a sheet with more columns than this is not a product sheet

REQUIRED_COLUMNS = ("title", "category", "sku", "price")
PRODUCT_COLUMNS = ("description", "brand", "attributes", "status")
VARIANT_COLUMNS = ("stock", "variant_attributes", "compare_at_price")
COLUMNS = REQUIRED_COLUMNS + PRODUCT_COLUMNS + VARIANT_COLUMNS
EXAMPLE_ROWS = [
    {
        "title": "Trail Runner 2",
        "category": "fashion/shoes/running-shoes",
        "brand": "Stridewell",
        "description": "A light trail shoe with a grippy sole.",
        "sku": "TR2-42",
        "price": "89.00",
        "stock": "12",
        "variant_attributes": "size=42",
        "status": "active",
    },
    {
        "title": "Trail Runner 2",
        "category": "fashion/shoes/running-shoes",
        "sku": "TR2-43",
        "price": "89.00",
        "stock": "8",
        "variant_attributes": "size=43",
    },
]

FILE_TYPES_MESSAGE = "Upload a CSV file (.csv, UTF-8) or an Excel workbook (.xlsx)."


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV/XLSX, too big, no header...)."""


@dataclass
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]


@dataclass
class ProductDraft:
    """One product of the file: its rows (one per variant) and the data for the service."""

    rows: list[Row]
    data: dict[str, Any]


@dataclass
class ImportReport:
    products: int = 0
    variants: int = 0
    # row number -> messages; empty when the import went through
    errors: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, row_number: int, message: str) -> None:
        self.errors.setdefault(row_number, []).append(message)

    @property
    def bad_rows(self) -> list[tuple[int, list[str]]]:
        return sorted(self.errors.items())


# --- reading the file ---------------------------------------------------------------------------


def _column_name(header: Any) -> str:
    return "_".join(str(header or "").strip().lower().replace("-", " ").split())


def _cell_text(value: Any) -> str:
    """A cell as text. Spreadsheets store "12" as the number 12.0 and prices as floats; their
    shortest repr is what the seller typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(upload) -> list[Row]:
    """The data rows of an uploaded CSV or XLSX file, with their column names checked.

    ``upload`` is a Django ``UploadedFile`` (or any file object with ``name`` and ``size``).
    Raises ImportFileError with a message for the seller.
    """
    name = (getattr(upload, "name", "") or "").lower()
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportFileError(
            f"This file is {size / 1024 / 1024:.1f} MB; an import file can be at most"
            f" {MAX_FILE_BYTES // 1024 // 1024} MB. Split it into several files."
        )
    upload.seek(0)
    content = upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(f"An import file can be at most {MAX_FILE_BYTES // 1024 // 1024} MB. Split it.")
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK\x03\x04"):  # every XLSX is a zip archive
            raise ImportFileError(f"This file is not an Excel workbook we can read. {FILE_TYPES_MESSAGE}")
        table = _xlsx_table(content)
    elif name.endswith(".csv"):
        table = _csv_table(content)
    else:
        raise ImportFileError(f"{getattr(upload, 'name', 'This file')} is not a CSV or XLSX file. {FILE_TYPES_MESSAGE}")
    return _rows_from_table(table)


def _csv_table(content: bytes) -> Iterable[list[Any]]:
    if b"\x00" in content[:8192]:
        raise ImportFileError(f"This file is not a text CSV file. {FILE_TYPES_MESSAGE}")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "This CSV file is not UTF-8 text. In Excel choose “CSV UTF-8 (comma delimited)” when saving."
        ) from None
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal separator is a comma (much of Europe)
    delimiter = max([",", ";", "\t"], key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_table(content: bytes) -> Iterable[list[Any]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise ImportFileError("This workbook is too large once unpacked. Split it into several files.")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, InvalidFileException...)
        raise ImportFileError(f"This file is not an Excel workbook we can read. {FILE_TYPES_MESSAGE}") from exc
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        raise ImportFileError("This workbook has no sheet.")
    # the first sheet; values, not formulas (data_only); at most MAX_COLUMNS columns are read
    return (list(values) for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS))


def _rows_from_table(table: Iterable[list[Any]]) -> list[Row]:
    iterator = iter(table)
    try:
        header = next(iterator)
    except StopIteration:
        raise ImportFileError("This file is empty: it needs a header row and one row per product variant.") from None
    except csv.Error as exc:
        raise ImportFileError(f"This CSV file cannot be read: {exc}.") from None
    columns = [_column_name(cell) for cell in header]
    while columns and not columns[-1]:
        columns.pop()  # spreadsheets pad the header with empty cells
    unknown = [c for c in columns if c and c not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"Missing column(s): {', '.join(missing)}.")
    if unknown:
        problems.append(f"Unknown column(s): {', '.join(unknown)}.")
    if duplicated:
        problems.append(f"Column(s) given twice: {', '.join(duplicated)}.")
    if problems:
        raise ImportFileError(" ".join(problems) + f" The columns are: {', '.join(COLUMNS)}.")

    rows = []
    try:
        for number, cells in enumerate(iterator, start=2):
            texts = [_cell_text(cell) for cell in cells]
            if not any(texts):
                continue  # an empty row (spreadsheets keep a few)
            if len(rows) == MAX_ROWS:
                raise ImportFileError(f"This file has more than {MAX_ROWS:,} rows. Split it into several files.")
            values = {column: (texts[i] if i < len(texts) else "") for i, column in enumerate(columns) if column}
            rows.append(Row(number=number, values=values))
    except csv.Error as exc:
        raise ImportFileError(f"This CSV file cannot be read: {exc}.") from None
    if not rows:
        raise ImportFileError("This file has a header but no rows of products.")
    return rows


# --- rows to products ---------------------------------------------------------------------------


def parse_attributes(text: str) -> dict[str, str]:
    """``{"colour": "Navy"}`` (JSON) or ``colour=Navy;size=M``. Raises ValueError with a message."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError('not valid JSON; write {"name": "value"} or name=value;name=value') from None
        if not isinstance(value, dict):
            raise ValueError('write {"name": "value"} or name=value;name=value')
        return value
    attributes = {}
    for pair in text.split(";"):
        if not pair.strip():
            continue
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"“{pair.strip()}” is not name=value")
        if name.strip() in attributes:
            raise ValueError(f"“{name.strip()}” is given twice")
        attributes[name.strip()] = value.strip()
    return attributes


def build_products(rows: list[Row], report: ImportReport) -> list[ProductDraft]:
    """Group the rows into products (same title and category) in the service's data shape. Problems
    a row has on its own (attributes that cannot be parsed, a product field that contradicts the
    product's first row) go into ``report``."""
    drafts: dict[tuple[str, str], ProductDraft] = {}
    for row in rows:
        values = row.values
        key = (values["title"].casefold(), values["category"].strip("/ ").lower())
        variant: dict[str, Any] = {"sku": values["sku"], "price": values["price"]}
        if values.get("stock"):
            variant["stock"] = values["stock"]
        if values.get("compare_at_price"):
            variant["compare_at_price"] = values["compare_at_price"]
        try:
            variant["attributes"] = parse_attributes(values.get("variant_attributes", ""))
        except ValueError as exc:
            report.add(row.number, f"variant_attributes: {exc}.")
        try:
            product_attributes = parse_attributes(values.get("attributes", ""))
        except ValueError as exc:
            report.add(row.number, f"attributes: {exc}.")
            product_attributes = {}

        draft = drafts.get(key)
        if draft is None:
            data = {
                "title": values["title"],
                "category": values["category"],
                "description": values.get("description", ""),
                "brand": values.get("brand", ""),
                "attributes": product_attributes,
                "status": values.get("status", "").lower() or "active",
                "variants": [],
            }
            draft = drafts[key] = ProductDraft(rows=[], data=data)
        else:
            first = draft.rows[0]
            for column in PRODUCT_COLUMNS:
                given = values.get(column, "")
                if given and given != first.values.get(column, ""):
                    report.add(
                        row.number,
                        f"{column}: differs from row {first.number}, this product's first row. Leave it empty"
                        " or repeat the same value.",
                    )
        draft.rows.append(row)
        draft.data["variants"].append(variant)
    return list(drafts.values())


def _report_service_errors(draft: ProductDraft, errors: dict[str, list[str]], report: ImportReport) -> None:
    """The service's errors (``title``, ``variants.1.sku``, ``attributes.colour``) on the rows they
    concern: a variant's on its own row, the product's on its first row."""
    first = draft.rows[0].number
    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] == "variants" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(draft.rows):
            number = draft.rows[int(parts[1])].number
            column = ".".join(parts[2:]) or "variant"
            column = {"attributes": "variant_attributes"}.get(column, column)
        else:
            number = first
            column = key if key != "__all__" else ""
        for message in messages:
            report.add(number, f"{column}: {message}" if column else message)


def import_products(*, seller, upload, actor) -> ImportReport:
    """Read, check and import a file for ``seller``: every row or none (see the module docstring).

    Raises ImportFileError when the file cannot be read at all; otherwise returns the report, whose
    ``errors`` are empty when the products were created.
    """
    rows = read_rows(upload)
    report = ImportReport()
    drafts = build_products(rows, report)
    with transaction.atomic():
        for draft in drafts:
            if any(row.number in report.errors for row in draft.rows):
                continue  # already known bad; the rest are still checked so one report lists them all
            try:
                # seller_product_create is atomic itself: each product is a savepoint, rolled back
                # on any error, so the transaction stays usable for the rest of the file
                seller_product_create(seller=seller, data=draft.data, actor=actor)
            except ValidationError as exc:
                _report_service_errors(draft, exc.message_dict, report)
            except PermissionDenied as exc:  # catalog.services.SellerCannotPublish
                report.add(draft.rows[0].number, str(exc))
            except IntegrityError:
                # a constraint the checks did not foresee (a SKU taken concurrently); the savepoint
                # was rolled back, so the rest of the file can still be checked
                report.add(draft.rows[0].number, "This product could not be saved (a SKU may have just been taken).")
            else:
                report.products += 1
                report.variants += len(draft.rows)
        if report.errors:
            transaction.set_rollback(True)
            report.products = report.variants = 0
    return report


def example_csv() -> str:
    """A small file in the import's format, offered for download on the import page."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in EXAMPLE_ROWS:
        writer.writerow(row)
    return buffer.getvalue()

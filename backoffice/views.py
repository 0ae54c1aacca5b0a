"""Seller Centre pages that compose several domains: the dashboard and the product import.

They live on the seller admin site (sellers.admin_site), registered in backoffice/admin.py, so the
site's gate (an approved seller) applies to them like to every admin page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalog.models import Product
from inventory.models import Stock
from sellers.admin_site import seller_admin_site
from sellers.models import Seller

from . import importing

# --- the dashboard --------------------------------------------------------------------------------


def dashboard_context(request: HttpRequest, seller: Seller) -> dict:
    """The seller's counts for the Seller Centre's index page. Two indexed queries whatever the size
    of the catalogue: products by status (product_seller_idx) and low-stock SKUs."""
    by_status = dict(
        Product.objects.filter(seller=seller)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    low_stock = (
        Stock.objects.filter(variant__product__seller=seller)
        .alias(available_units=F("on_hand") - F("reserved"))
        .filter(available_units__lte=F("low_stock_threshold"))
        .count()
    )
    return {
        "product_counts": {status: by_status.get(status, 0) for status in Product.Status.values},
        "products_total": sum(by_status.values()),
        "low_stock_count": low_stock,
        "open_sub_orders": open_sub_orders_count(seller),
    }


def open_sub_orders_count(seller: Seller) -> int | None:
    """The seller's sub-orders still to ship (confirmed or processing), or None while the shop has
    no orders: the dashboard shows the card only for a number, never an invented one.

    Hook for the orders issue: return ``orders.selectors.sub_orders_open_count(seller=seller)``
    here once orders exist (backoffice sits above orders and may import its selectors).
    """
    return None


# --- the import -----------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text=f"At most {importing.MAX_FILE_BYTES // 1024 // 1024} MB and {importing.MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def import_products(request: HttpRequest) -> HttpResponse:
    """Upload a file; every row is imported, or none and a report of the bad rows."""
    seller = seller_admin_site.seller(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = importing.import_products(seller=seller, upload=form.cleaned_data["file"], actor=request.user)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            if report.ok:
                messages.success(
                    request,
                    f"Imported {report.products:,} product{'s' if report.products != 1 else ''} with"
                    f" {report.variants:,} variant{'s' if report.variants != 1 else ''}.",
                )
                return redirect(reverse("admin:catalog_product_changelist", current_app=seller_admin_site.name))
    context = {
        **seller_admin_site.each_context(request),
        "title": "Import products",
        "form": form,
        "report": report,
        "columns": importing.COLUMNS,
        "required_columns": importing.REQUIRED_COLUMNS,
        "max_rows": importing.MAX_ROWS,
    }
    return TemplateResponse(request, "backoffice/import.html", context)


@require_GET
def import_example(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(importing.example_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="products-example.csv"'
    return response

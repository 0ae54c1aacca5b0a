"""Every page of both admin sites renders: each registered model's list, add and change pages, for
staff on /admin/ and for an approved seller on /seller/."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import UserFactory
from catalog.tests.factories import ProductFactory
from inventory.models import StockMovement
from inventory.tests.factories import StockFactory
from sellers.admin_site import seller_admin_site
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    seller = SellerFactory()
    product = ProductFactory(seller=seller)
    stock = StockFactory(variant=product.variants.get())
    StockMovement.objects.create(stock=stock, delta=10, on_hand_after=10, reason="initial stock")
    return seller


def _pages(client, site, request_user):
    for model, model_admin in site._registry.items():
        info = (site.name, model._meta.app_label, model._meta.model_name)
        request = type("Request", (), {"user": request_user})()
        if model_admin.has_view_permission(request):
            response = client.get(reverse("{}:{}_{}_changelist".format(*info)))
            assert response.status_code in (200, 302), (model, response.status_code)
            obj = model_admin.get_queryset(request).first()
            if obj is not None:
                response = client.get(reverse("{}:{}_{}_change".format(*info), args=[obj.pk]))
                assert response.status_code == 200, (model, "change", response.status_code)
        if model_admin.has_add_permission(request):
            response = client.get(reverse("{}:{}_{}_add".format(*info)))
            assert response.status_code == 200, (model, "add", response.status_code)


def test_every_staff_admin_page_renders(client, catalogue):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)

    _pages(client, admin.site, staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_every_seller_site_page_renders(client, catalogue):
    client.force_login(catalogue.user)
    user = type(catalogue.user).objects.get(pk=catalogue.user.pk)

    _pages(client, seller_admin_site, user)
    assert client.get(reverse("seller_admin:index")).status_code == 200
    assert client.get(reverse("seller_admin:import_products")).status_code == 200
    assert client.get(reverse("seller_admin:password_change")).status_code == 200

"""The seller admin site's gate and its own views (catalog/inventory tests cover scoping per model)."""

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from sellers.admin_site import SellerAdminSite, SellerScopedAdminMixin, seller_admin_site
from sellers.models import Seller
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db


def test_the_site_is_mounted_at_seller_with_its_header():
    assert reverse("seller_admin:index") == "/seller/"
    assert isinstance(seller_admin_site, SellerAdminSite)
    assert seller_admin_site.site_header == "Seller Centre"


def test_its_log_in_page_is_the_shops(client):
    response = client.get(reverse("seller_admin:login"))

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next=/seller/"


def test_an_approved_seller_on_the_log_in_page_goes_to_the_dashboard(client):
    client.force_login(SellerFactory().user)

    response = client.get(reverse("seller_admin:login"))

    assert response.status_code == 302
    assert response.url == "/seller/"


def test_an_inactive_user_is_kept_out_even_with_an_approved_store(client):
    seller = SellerFactory()
    client.force_login(seller.user)
    type(seller.user).objects.filter(pk=seller.user.pk).update(is_active=False)

    response = client.get(reverse("seller_admin:index"))

    assert response.status_code in (302, 403)  # the session ends with the inactive user


@pytest.mark.parametrize("status", [Seller.Status.PENDING, Seller.Status.SUSPENDED])
def test_pending_and_suspended_sellers_get_the_reason_and_not_the_admin(client, status):
    seller = SellerFactory(status=status)
    client.force_login(seller.user)

    for url in [reverse("seller_admin:index"), reverse("seller_admin:sellers_storeprofile_change", args=[seller.pk])]:
        response = client.get(url)
        assert response.status_code == 403
        assert b"Seller Centre" in response.content
        assert b'id="changelist"' not in response.content
        assert response["Cache-Control"] == "no-store"


def test_the_mixin_refuses_to_serve_the_staff_admin():
    class Wrong(SellerScopedAdminMixin, admin.ModelAdmin):
        pass

    with pytest.raises(ImproperlyConfigured):
        Wrong(Seller, admin.site)

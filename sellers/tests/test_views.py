import pytest
from django.urls import reverse

from sellers.models import Seller
from sellers.tests.factories import SellerFactory

pytestmark = pytest.mark.django_db

URL = "/sellers/apply/"


def test_the_url_is_named_sellers_onboarding():
    assert reverse("sellers:onboarding") == URL


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "next=/sellers/apply/" in response.url


def test_a_signed_in_user_sees_the_form_and_applies(client, user):
    client.force_login(user)
    assert b'name="store_name"' in client.get(URL).content

    response = client.post(URL, {"store_name": "Hill Farm Honey", "description": "Honey from the hills."}, follow=True)

    seller = Seller.objects.get(user=user)
    assert seller.status == Seller.Status.PENDING
    assert seller.description == "Honey from the hills."
    assert b"We are reviewing your application" in response.content
    assert b"Hill Farm Honey" in response.content


def test_a_bad_store_name_is_shown_next_to_the_field(client, user):
    client.force_login(user)

    response = client.post(URL, {"store_name": "%%%"})

    assert response.status_code == 200
    assert b"at least one letter or digit" in response.content
    assert not Seller.objects.exists()


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (Seller.Status.APPROVED, b"Go to the Seller Centre"),
        (Seller.Status.SUSPENDED, b"Your store is suspended"),
        (Seller.Status.REJECTED, b"could not approve"),
    ],
)
def test_an_applicant_sees_where_the_application_stands_instead_of_the_form(client, status, text):
    seller = SellerFactory(status=status)
    client.force_login(seller.user)

    response = client.get(URL)

    assert text in response.content
    assert b'name="store_name"' not in response.content


def test_a_second_post_does_not_create_a_second_seller(client):
    seller = SellerFactory(status=Seller.Status.PENDING)
    client.force_login(seller.user)

    client.post(URL, {"store_name": "Another"})

    assert Seller.objects.filter(user=seller.user).count() == 1


def test_the_sell_page_links_to_the_application(client):
    assert URL.encode() in client.get(reverse("storefront:sell")).content

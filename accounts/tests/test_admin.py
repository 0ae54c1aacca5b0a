import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_user_admin_lists_searches_and_shows_a_user_with_addresses(staff_client):
    buyer = UserFactory(email="findme@example.com")
    AddressFactory(user=buyer)

    assert staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "findme"}).status_code == 200
    response = staff_client.get(reverse("admin:accounts_user_change", args=[buyer.pk]))

    assert response.status_code == 200
    assert b"Market Street" in response.content


def test_user_admin_adds_a_user_by_email_with_an_argon2_password(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New@Example.com",
            "usable_password": "true",
            "password1": "a long and unusual passphrase 42",
            "password2": "a long and unusual passphrase 42",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new@example.com")
    assert user.password.startswith("argon2")


def test_user_admin_refuses_an_email_taken_in_another_case(staff_client):
    UserFactory(email="taken@example.com")

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {"email": "TAKEN@example.com", "usable_password": "false"},
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from sellers.models import Seller

pytestmark = pytest.mark.django_db

URL = "/api/v1/sellers/apply/"


@pytest.fixture
def jwt_client(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return api_client


def test_apply_answers_201_with_the_slug_and_pending(jwt_client, user):
    response = jwt_client.post(URL, {"store_name": "Blue Door Books"}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == "blue-door-books"
    assert response.json()["status"] == "pending"
    assert Seller.objects.get(user=user).store_name == "Blue Door Books"


def test_a_second_application_is_a_conflict(jwt_client):
    jwt_client.post(URL, {"store_name": "One"}, format="json")

    response = jwt_client.post(URL, {"store_name": "Two"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert Seller.objects.count() == 1


@pytest.mark.parametrize(
    "body", [{}, {"store_name": ""}, {"store_name": 42}, {"store_name": "   "}, {"store_name": "?!"}]
)
def test_bad_input_is_400_in_the_error_format(jwt_client, body):
    response = jwt_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "store_name" in response.json()["fields"]
    assert not Seller.objects.exists()


def test_anonymous_clients_get_401(api_client):
    response = api_client.post(URL, {"store_name": "Nobody"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"

import pytest

from accounts.tests.factories import UserFactory
from sellers.models import Seller
from sellers.tests.factories import SellerFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def pending_seller(db):
    return SellerFactory(status=Seller.Status.PENDING)


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client

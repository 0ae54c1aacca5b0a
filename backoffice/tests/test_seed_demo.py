import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from backoffice import demo_data
from catalog.models import Category
from sellers.models import Seller

pytestmark = pytest.mark.django_db


def counts():
    return (get_user_model().objects.count(), Seller.objects.count(), Category.objects.count())


def test_seed_demo_is_idempotent_and_reports_progress(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first

    out = capsys.readouterr().out
    assert "12/12 Automotive" in out
    assert "Demo data ready." in out
    staff = get_user_model().objects.get(email=demo_data.STAFF["email"])
    assert staff.is_staff
    assert staff.check_password(demo_data.STAFF["password"])
    assert Seller.objects.filter(status=Seller.Status.APPROVED).count() == len(demo_data.SELLERS)
    assert Category.objects.filter(depth=2).count() == 4 * 4 * len(demo_data.CATEGORY_TREE)
    assert Category.objects.get(path="electronics/phones/smartphones").parent.path == "electronics/phones"


def test_seed_demo_once_skips_when_loaded(capsys):
    call_command("seed_demo")
    call_command("seed_demo", "--once")
    assert "already loaded" in capsys.readouterr().out


def test_seed_demo_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo")

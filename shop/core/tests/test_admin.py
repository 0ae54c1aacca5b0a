import pytest
from django.contrib.auth import get_user_model

from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_staff_see_outbox_events_by_delivery_state_and_cannot_edit_them(client, settings):
    staff = get_user_model().objects.create_superuser("operator@example.com", "an operator's password")
    client.force_login(staff)
    OutboxEvent.objects.create(name="test.pending", payload={})
    OutboxEvent.objects.create(name="test.gave_up", payload={}, attempts=settings.OUTBOX_MAX_ATTEMPTS)

    failed = client.get("/admin/core/outboxevent/?delivery=failed")
    assert [event.name for event in failed.context["cl"].result_list] == ["test.gave_up"]
    pending = client.get("/admin/core/outboxevent/?delivery=pending")
    assert [event.name for event in pending.context["cl"].result_list] == ["test.pending"]
    event = OutboxEvent.objects.get(name="test.pending")
    assert client.get(f"/admin/core/outboxevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/core/outboxevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/core/outboxevent/add/").status_code == 403

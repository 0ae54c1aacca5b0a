"""/healthz reports each dependency; only a database outage makes it 503."""

import psycopg
import pytest
from celery import current_app

from shop.core import views

pytestmark = pytest.mark.django_db


def test_healthz_reports_all_three_ok(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "broker": "ok",
    }


def test_redis_down_is_degraded_not_down(client, settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}  # nothing listens there
    }
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


def test_broker_down_is_degraded_not_down(client):
    app = current_app
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "down"


def test_database_down_is_503(client, monkeypatch):
    def unreachable_database():
        psycopg.connect("host=127.0.0.1 port=1 dbname=x connect_timeout=1")

    monkeypatch.setattr(views, "_database", unreachable_database)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["database"]["status"] == "down"

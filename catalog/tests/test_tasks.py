"""The image pipeline: upload, renditions made by the Celery task after commit (eager in tests), the
product's primary image, retries and failures."""

import io
import logging
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog import events, services, tasks
from catalog.models import ProductImage
from catalog.tests.factories import ProductFactory
from sellers.models import Seller
from shop.core.models import OutboxEvent

pytestmark = pytest.mark.django_db


def jpeg_upload(colour="navy", size=(600, 400), name="photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def truncated_jpeg_upload() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.effect_noise((800, 800), 50).convert("RGB").save(buffer, "JPEG")
    content = buffer.getvalue()
    return SimpleUploadedFile("broken.jpg", content[: len(content) // 2], content_type="image/jpeg")


def updated_events(product) -> int:
    return OutboxEvent.objects.filter(name=events.PRODUCT_UPDATED, payload__product_id=product.pk).count()


@pytest.fixture
def product():
    return ProductFactory()


def test_an_upload_is_stored_at_once_and_processed_only_after_commit(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, upload=jpeg_upload(), alt_text=" Front ")
        image.refresh_from_db()
        assert image.status == ProductImage.Status.PENDING
        assert default_storage.exists(image.original.name)

    image.refresh_from_db()
    assert image.status == ProductImage.Status.READY
    assert (image.width, image.height, image.alt_text) == (600, 400, "Front")
    assert set(image.renditions) == {"thumbnail", "medium", "large"}
    assert all(default_storage.exists(entry["webp"]) for entry in image.renditions.values())
    assert image.renditions["medium"]["webp"].startswith(f"products/r/{image.pk}/")


def test_the_original_is_stored_under_a_random_name_with_its_real_format(product):
    image = services.product_image_add(product=product, upload=jpeg_upload(name="../../My Holiday (GPS).png"))

    assert re.fullmatch(r"products/originals/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", image.original.name)


def test_a_processed_image_becomes_the_primary_image_and_publishes_product_updated(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, upload=jpeg_upload())

    product.refresh_from_db()
    assert product.primary_image == image
    assert updated_events(product) == 1


def test_the_primary_image_is_the_first_ready_one_by_position(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        later = services.product_image_add(product=product, upload=jpeg_upload("red"), position=5)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.product_image_add(product=product, upload=jpeg_upload("blue"), position=1)

    product.refresh_from_db()
    assert product.primary_image == first
    assert later.pk != first.pk


def test_images_are_appended_after_the_last_position(product):
    first = services.product_image_add(product=product, upload=jpeg_upload())
    second = services.product_image_add(product=product, upload=jpeg_upload())

    assert (first.position, second.position) == (0, 1)


def test_running_the_task_again_changes_nothing_and_publishes_nothing(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, upload=jpeg_upload())
    image.refresh_from_db()
    renditions = image.renditions

    tasks.product_image_process_task(image.pk)
    tasks.product_image_process_task.delay(image.pk)

    image.refresh_from_db()
    assert image.renditions == renditions
    assert updated_events(product) == 1


def test_an_image_pillow_cannot_decode_is_marked_failed_and_logged(product, django_capture_on_commit_callbacks, caplog):
    with caplog.at_level(logging.ERROR, logger="catalog.services"), django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, upload=truncated_jpeg_upload())

    image.refresh_from_db()
    assert image.status == ProductImage.Status.FAILED
    assert f"image {image.pk} of product {product.pk} could not be processed" in caplog.text
    product.refresh_from_db()
    assert product.primary_image is None
    assert updated_events(product) == 0


def test_an_image_whose_original_vanished_is_marked_failed(product):
    image = services.product_image_add(product=product, upload=jpeg_upload())
    default_storage.delete(image.original.name)

    services.product_image_process(image_id=image.pk)

    # (not refresh_from_db: assigning an ImageField re-reads the file to measure it)
    assert ProductImage.objects.get(pk=image.pk).status == ProductImage.Status.FAILED


def test_a_storage_error_leaves_the_image_pending_for_the_sweep(product, monkeypatch):
    image = services.product_image_add(product=product, upload=jpeg_upload())

    def unavailable(*args, **kwargs):
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(default_storage, "save", unavailable)
    with pytest.raises(ConnectionError):
        services.product_image_process(image_id=image.pk)

    image.refresh_from_db()
    assert image.status == ProductImage.Status.PENDING


def test_a_broker_that_is_down_leaves_the_upload_pending_without_an_error(
    product, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.product_image_process_task, "delay", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(product=product, upload=jpeg_upload())

    image.refresh_from_db()
    assert image.status == ProductImage.Status.PENDING
    assert "the sweep will retry" in caplog.text


def test_the_sweep_enqueues_images_pending_too_long_but_not_new_or_abandoned_ones(product):
    lost = services.product_image_add(product=product, upload=jpeg_upload())
    fresh = services.product_image_add(product=product, upload=jpeg_upload())
    abandoned = services.product_image_add(product=product, upload=jpeg_upload())
    now = timezone.now()
    ProductImage.objects.filter(pk=lost.pk).update(created_at=now - timedelta(minutes=30))
    ProductImage.objects.filter(pk=abandoned.pk).update(created_at=now - timedelta(days=2))

    assert tasks.product_images_process_pending_task() == 1

    statuses = dict(ProductImage.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: ProductImage.Status.READY,
        fresh.pk: ProductImage.Status.PENDING,
        abandoned.pk: ProductImage.Status.PENDING,
    }


def test_a_processing_task_for_a_deleted_image_does_nothing(product):
    image = services.product_image_add(product=product, upload=jpeg_upload())
    image_id = image.pk
    image.delete()

    assert services.product_image_process(image_id=image_id) is None


def test_an_upload_that_is_not_an_image_is_refused_and_stores_nothing(product, django_capture_on_commit_callbacks):
    text = SimpleUploadedFile("photo.jpg", b"not a photo", content_type="image/jpeg")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as caught:
        services.product_image_add(product=product, upload=text)

    assert caught.value.message_dict == {
        "image": ["This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF."]
    }
    assert callbacks == []
    assert not ProductImage.objects.exists()


def test_an_upload_over_10_mb_is_refused_with_a_clear_message(product):
    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024))

    with pytest.raises(ValidationError) as caught:
        services.product_image_add(product=product, upload=huge)

    assert caught.value.message_dict["image"] == ["This file is 11.0 MB; images can be at most 10 MB."]


def test_a_long_alt_text_is_refused(product):
    with pytest.raises(ValidationError) as caught:
        services.product_image_add(product=product, upload=jpeg_upload(), alt_text="a" * 201)

    assert "alt_text" in caught.value.message_dict


def test_a_suspended_seller_cannot_add_images(product):
    product.seller.status = Seller.Status.SUSPENDED
    product.seller.save()

    with pytest.raises(services.SellerCannotPublish):
        services.product_image_add(product=product, upload=jpeg_upload())

    assert not ProductImage.objects.exists()


def test_refreshing_images_after_a_deletion_moves_the_primary_image_and_publishes(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.product_image_add(product=product, upload=jpeg_upload("red"))
        second = services.product_image_add(product=product, upload=jpeg_upload("blue"))
    first.delete()

    refreshed = services.product_images_refresh(product=product)

    assert refreshed.primary_image_id == second.pk
    assert updated_events(product) == 3

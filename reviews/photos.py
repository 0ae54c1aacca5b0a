"""Checking a buyer's photo before it is stored: the catalog's rules for product images (a JPEG, PNG,
WebP or GIF that Pillow reads, of sensible size), applied here because the catalog's checker is
private to it. The renditions are made by the catalog's public service
(``catalog.services.image_renditions_make``), so review photos get the same three sizes and formats.
"""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from PIL import Image

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone photo is 2-6 MB; beyond 10 MB it is a mistake or an attack
MAX_PIXELS = 40_000_000  # as product images: ~160 MB decoded as RGBA is the most a worker decodes
MIN_SIDE = 100
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
NOT_AN_IMAGE = "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF."
TOO_MANY_PIXELS = f"This image has too many pixels. Upload one of at most {MAX_PIXELS // 1_000_000} megapixels."


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return size


def validate_photo_upload(upload) -> str:
    """The photo's format ("JPEG", ...), or ValidationError with a message a buyer understands.

    Reads the header and the file's structure only; pixels are decoded by the renditions task.
    """
    size = _size_of(upload)
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"This file is {size / 1024 / 1024:.1f} MB; photos can be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB.",
            code="too_large",
        )
    try:
        upload.seek(0)
        # formats=: only these decoders ever see untrusted bytes
        with Image.open(upload, formats=ALLOWED_FORMATS) as image:
            image_format = image.format or ""
            width, height = image.size
            if width * height > MAX_PIXELS:  # from the header, before anything is decoded
                raise ValidationError(TOO_MANY_PIXELS, code="too_large")
            image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        raise ValidationError(TOO_MANY_PIXELS, code="too_large") from exc
    except Exception as exc:  # crafted files make Pillow raise all sorts: all mean "not an image"
        raise ValidationError(NOT_AN_IMAGE, code="not_image") from exc
    finally:
        upload.seek(0)
    if min(width, height) < MIN_SIDE:
        raise ValidationError(
            f"This photo is {width}x{height} pixels, too small. Upload one at least {MIN_SIDE} pixels on each side.",
            code="too_small",
        )
    return image_format

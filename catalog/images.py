"""Product images: checking uploads and making renditions with Pillow.

An upload is refused unless Pillow can read it as a JPEG, PNG, WebP or GIF of sensible size. Each
image then gets three renditions (thumbnail, medium, large), each as WebP with a JPEG fallback, stored
through Django's storage API (local files or S3) under names that carry a hash of the original, so
their URLs change whenever the image does and can be cached for a year.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone photo is 2-6 MB; beyond 10 MB it is a mistake or an attack
MAX_PIXELS = 40_000_000  # 40 megapixels; Pillow's decompression-bomb guard trips above this
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Rendition:
    name: str
    size: int  # longest side in pixels (the thumbnail is cropped square)
    square: bool = False


RENDITIONS = (Rendition("thumbnail", 320, square=True), Rendition("medium", 720), Rendition("large", 1400))


def validate_image_upload(upload) -> None:
    """Raise ValidationError with a message a seller understands for anything but a real image."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"This file is {size / 1024 / 1024:.1f} MB; images can be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB.",
            code="too_large",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF.", code="not_image"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ValidationError(
            "This image has too many pixels. Upload one of at most 40 megapixels.", code="too_large"
        ) from exc
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            f"{image_format} images are not accepted. Upload a JPEG, PNG, WebP or GIF.", code="format"
        )
    if width * height > MAX_PIXELS:
        raise ValidationError("This image has too many pixels. Upload one of at most 40 megapixels.", code="too_large")
    if min(width, height) < 100:
        raise ValidationError("This image is too small. Upload one at least 100 pixels on each side.", code="too_small")


def _resize(image: Image.Image, rendition: Rendition) -> Image.Image:
    if rendition.square:
        return ImageOps.fit(image, (rendition.size, rendition.size), Image.Resampling.LANCZOS)
    copy = image.copy()
    copy.thumbnail((rendition.size, rendition.size), Image.Resampling.LANCZOS)
    return copy


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "WEBP":
        image.save(buffer, "WEBP", quality=80, method=4)
    else:
        image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    return buffer.getvalue()


def make_renditions(original_bytes: bytes, *, prefix: str) -> dict:
    """Write every rendition of an image under ``prefix`` and return their storage names and sizes."""
    digest = hashlib.sha256(original_bytes).hexdigest()[:12]
    with Image.open(io.BytesIO(original_bytes)) as source:
        image = ImageOps.exif_transpose(source)
        if image.mode not in ("RGB",):
            background = Image.new("RGB", image.size, (255, 255, 255))
            rgba = image.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        renditions = {}
        for rendition in RENDITIONS:
            resized = _resize(image, rendition)
            entry = {"width": resized.width, "height": resized.height}
            for image_format, extension in (("WEBP", "webp"), ("JPEG", "jpg")):
                name = f"{prefix}/{digest}-{rendition.name}.{extension}"
                if not default_storage.exists(name):
                    default_storage.save(name, ContentFile(_encode(resized, image_format)))
                entry[extension if extension == "webp" else "jpeg"] = name
            renditions[rendition.name] = entry
    return renditions


def rendition_url(renditions: dict, name: str, image_format: str = "webp") -> str | None:
    entry = renditions.get(name)
    if not entry:
        return None
    return default_storage.url(entry[image_format])

"""Product images: checking uploads and making renditions with Pillow.

An upload is refused unless Pillow can read it as a JPEG, PNG, WebP or GIF of sensible size. Each
image then gets three renditions (thumbnail, medium, large), each as WebP with a JPEG fallback, stored
through Django's storage API (local files or S3) under names that carry a hash of the original, so
their URLs change whenever the image does and can be cached for a year.

Untrusted bytes only ever reach Pillow's decoders for the four formats above (``formats=`` on every
``Image.open``), and their pixel count is checked from the header before anything is decoded.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone photo is 2-6 MB; beyond 10 MB it is a mistake or an attack
MAX_PIXELS = 40_000_000  # 40 megapixels: more than any product photo needs, and ~160 MB decoded as RGBA
MIN_SIDE = 100  # pixels; anything smaller looks broken even as a thumbnail
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
# Pillow's own decompression-bomb guard, as a second line behind the explicit check below (it raises
# at twice this). Process-wide, so seller logos and any other image field get it too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

NOT_AN_IMAGE = "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF."
TOO_MANY_PIXELS = f"This image has too many pixels. Upload one of at most {MAX_PIXELS // 1_000_000} megapixels."


class ImageProcessingError(Exception):
    """Pillow could not decode or encode the image: retrying will not help (unlike a storage error)."""


@dataclass(frozen=True)
class Rendition:
    name: str
    size: int  # longest side in pixels (the thumbnail is cropped square)
    square: bool = False


RENDITIONS = (Rendition("thumbnail", 320, square=True), Rendition("medium", 720), Rendition("large", 1400))


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:  # a plain file object: measure it rather than let Pillow read without a limit
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return size


def validate_image_upload(upload) -> str:
    """Raise ValidationError with a message a seller understands for anything but a real image.

    Returns the image's format ("JPEG", "PNG", "WEBP" or "GIF"). Reads the header and checks the
    file's structure; it does not decode every pixel (a truncated JPEG is caught by the renditions
    task, which marks the image failed).
    """
    size = _size_of(upload)
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"This file is {size / 1024 / 1024:.1f} MB; images can be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB.",
            code="too_large",
        )
    try:
        upload.seek(0)
        # formats=: only these decoders ever see the bytes (no EPS, which would run Ghostscript).
        with Image.open(upload, formats=ALLOWED_FORMATS) as image:
            image_format = image.format or ""
            width, height = image.size
            if width * height > MAX_PIXELS:  # from the header alone, before anything is decoded
                raise ValidationError(TOO_MANY_PIXELS, code="too_large")
            image.verify()
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        raise ValidationError(TOO_MANY_PIXELS, code="too_large") from exc
    except Exception as exc:
        # Crafted files make Pillow raise more than OSError (struct.error, IndexError, ...): any
        # failure to read an untrusted file means the same thing to the seller.
        raise ValidationError(NOT_AN_IMAGE, code="not_image") from exc
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:  # formats= makes this unreachable; kept as the rule's statement
        raise ValidationError(NOT_AN_IMAGE, code="format")
    if min(width, height) < MIN_SIDE:
        raise ValidationError(
            f"This image is {width}x{height} pixels, too small. Upload one at least {MIN_SIDE} pixels on each side.",
            code="too_small",
        )
    return image_format


def _resize(image: Image.Image, rendition: Rendition) -> Image.Image:
    if rendition.square:
        return ImageOps.fit(image, (rendition.size, rendition.size), Image.Resampling.LANCZOS)
    copy = image.copy()
    copy.thumbnail((rendition.size, rendition.size), Image.Resampling.LANCZOS)
    return copy


def _encode(image: Image.Image, image_format: str, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format == "WEBP":
        image.save(buffer, "WEBP", quality=80, method=4, **extra)
    else:
        image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True, **extra)
    return buffer.getvalue()


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB for every source mode: transparency becomes white (the shop's background), CMYK and
    palette images are converted, 16-bit greyscale is scaled down."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # Pillow clips 16-bit values to 0..255 when converting; scale instead so the image is not white.
        image = image.point(lambda value: value / 256).convert("L")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _encode_renditions(original_bytes: bytes) -> dict[str, tuple[int, int, dict[str, bytes]]]:
    """Every rendition encoded in memory: {name: (width, height, {"webp": bytes, "jpg": bytes})}."""
    with Image.open(io.BytesIO(original_bytes), formats=ALLOWED_FORMATS) as source:
        if source.width * source.height > MAX_PIXELS:
            raise ImageProcessingError(TOO_MANY_PIXELS)
        largest = max(rendition.size for rendition in RENDITIONS)
        # JPEG can decode at 1/2, 1/4 or 1/8 scale: far less time and memory for a phone photo,
        # and never smaller than twice the largest rendition (the box is square, so EXIF rotation
        # does not matter).
        source.draft(None, (largest * 2, largest * 2))
        # Keep the colour profile of RGB images (Display P3 photos look washed out without it);
        # a CMYK profile does not describe the converted pixels, so it is dropped.
        icc_profile = source.info.get("icc_profile") if source.mode == "RGB" else None
        image = _to_rgb(ImageOps.exif_transpose(source))
        encoded = {}
        for rendition in RENDITIONS:
            resized = _resize(image, rendition)
            encoded[rendition.name] = (
                resized.width,
                resized.height,
                {"webp": _encode(resized, "WEBP", icc_profile), "jpg": _encode(resized, "JPEG", icc_profile)},
            )
    return encoded


def make_renditions(original_bytes: bytes, *, prefix: str) -> dict:
    """Write every rendition of an image under ``prefix`` and return their storage names and sizes:
    ``{"thumbnail": {"width", "height", "webp": name, "jpeg": name}, "medium": ..., "large": ...}``.

    Raises ImageProcessingError when Pillow cannot decode or encode the image; errors of the storage
    (S3 unreachable, disk full) propagate unchanged, since a retry may succeed. Running it twice
    for the same bytes and prefix writes nothing new: names carry a hash of the original.
    """
    digest = hashlib.sha256(original_bytes).hexdigest()[:12]
    try:
        encoded = _encode_renditions(original_bytes)
    except ImageProcessingError:
        raise
    except Exception as exc:  # any decoder failure on untrusted bytes
        raise ImageProcessingError(f"{type(exc).__name__}: {exc}") from exc

    renditions = {}
    for name, (width, height, files) in encoded.items():
        entry: dict = {"width": width, "height": height}
        for extension, content in files.items():
            storage_name = f"{prefix}/{digest}-{name}.{extension}"
            if not default_storage.exists(storage_name):
                # the storage may pick another name if a concurrent run just wrote this one
                storage_name = default_storage.save(storage_name, ContentFile(content))
            entry["webp" if extension == "webp" else "jpeg"] = storage_name
        renditions[name] = entry
    return renditions


def rendition_url(renditions: dict, name: str, image_format: str = "webp") -> str | None:
    entry = renditions.get(name)
    if not entry:
        return None
    return default_storage.url(entry[image_format])

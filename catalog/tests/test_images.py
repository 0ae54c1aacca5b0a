"""Upload checks and renditions (catalog.images), on images made in memory with Pillow."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from catalog import images, services


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares these dimensions over a few bytes of data: what a decompression bomb
    looks like to anything that trusts the header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    data = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # left half fully transparent
    image.paste((200, 0, 0, 255), (200, 0, 400, 300))  # right half opaque red
    return encode(image, "PNG")


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (400, 300), (0, 255, 255, 0)), "JPEG")


def exif_rotated_jpeg() -> bytes:
    """Stored 400x200 landscape; the camera says 'rotate 90° clockwise to view' (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(Image.new("RGB", (400, 200), (0, 120, 200)), "JPEG", exif=exif)


def rendition(renditions: dict, name: str, image_format: str = "jpeg") -> Image.Image:
    with default_storage.open(renditions[name][image_format]) as stored:
        image = Image.open(io.BytesIO(stored.read()))
        image.load()
    return image


def is_red(pixel) -> bool:
    red, green, blue = pixel[:3]
    return red > 180 and green < 60 and blue < 60


def media_files(settings) -> list:
    return sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())


# --- validate_image_upload ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "image_format"),
    [
        (png_with_alpha(), "PNG"),
        (cmyk_jpeg(), "JPEG"),
        (exif_rotated_jpeg(), "JPEG"),
        (encode(Image.new("RGB", (120, 120)), "WEBP"), "WEBP"),
        (encode(Image.new("P", (120, 120)), "GIF"), "GIF"),
    ],
)
def test_real_images_are_accepted_and_their_format_returned(content, image_format):
    assert images.validate_image_upload(upload(content)) == image_format


def test_validation_leaves_the_file_at_its_start_for_storing():
    photo = upload(png_with_alpha())

    images.validate_image_upload(photo)

    assert photo.tell() == 0


def test_a_text_file_named_jpg_is_refused_as_not_an_image():
    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(upload(b"Dear seller,\nthis is not a photo.\n", name="photo.jpg"))

    assert caught.value.messages == ["This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF."]
    assert caught.value.code == "not_image"


@pytest.mark.parametrize(
    "content",
    [
        encode(Image.new("RGB", (200, 200)), "BMP"),
        encode(Image.new("RGB", (200, 200)), "TIFF"),
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 200 200\n",  # EPS would run Ghostscript
        b"",
    ],
    ids=["bmp", "tiff", "eps", "empty"],
)
def test_formats_other_than_jpeg_png_webp_gif_are_refused(content):
    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(upload(content))

    assert "Upload a JPEG, PNG, WebP or GIF" in caught.value.messages[0]


def test_a_file_over_10_mb_is_refused_with_its_size_in_the_message():
    huge = upload(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 1))

    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(huge)

    assert caught.value.messages == ["This file is 10.0 MB; images can be at most 10 MB."]
    assert caught.value.code == "too_large"


def test_a_plain_file_object_is_measured_before_pillow_reads_it():
    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(io.BytesIO(b"\0" * (11 * 1024 * 1024)))

    assert caught.value.code == "too_large"


def test_a_decompression_bomb_is_refused_without_decoding_it():
    bomb = upload(png_header_only(100_000, 100_000), name="bomb.png")  # 10 gigapixels in 100 bytes

    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(bomb)

    assert caught.value.messages == ["This image has too many pixels. Upload one of at most 40 megapixels."]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_just_over_40_megapixels_is_refused_though_pillow_only_warns():
    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(upload(png_header_only(8000, 6000), name="big.png"))

    assert caught.value.code == "too_large"


def test_a_50_pixel_image_is_refused_as_too_small():
    with pytest.raises(ValidationError) as caught:
        images.validate_image_upload(upload(encode(Image.new("RGB", (50, 50)), "PNG")))

    assert caught.value.messages == [
        "This image is 50x50 pixels, too small. Upload one at least 100 pixels on each side."
    ]


# --- make_renditions ------------------------------------------------------------------------------


def test_renditions_are_webp_and_jpeg_in_three_sizes_under_hashed_names():
    original = encode(Image.new("RGB", (3000, 2000), (10, 200, 30)), "JPEG")

    renditions = images.make_renditions(original, prefix="products/r/1")

    assert {name: (entry["width"], entry["height"]) for name, entry in renditions.items()} == {
        "thumbnail": (320, 320),
        "medium": (720, 480),
        "large": (1400, 933),
    }
    for entry in renditions.values():
        assert entry["webp"].startswith("products/r/1/")
        assert entry["webp"].endswith(".webp")
        assert entry["jpeg"].endswith(".jpg")
        assert default_storage.exists(entry["webp"])
        assert default_storage.exists(entry["jpeg"])
    assert rendition(renditions, "large", "webp").format == "WEBP"
    assert rendition(renditions, "large").format == "JPEG"


def test_changed_image_bytes_give_new_rendition_names_so_urls_can_be_cached_for_ever():
    first = images.make_renditions(encode(Image.new("RGB", (300, 300), "red"), "PNG"), prefix="p")
    second = images.make_renditions(encode(Image.new("RGB", (300, 300), "blue"), "PNG"), prefix="p")

    assert first["medium"]["webp"] != second["medium"]["webp"]


def test_making_renditions_twice_writes_nothing_new(settings):
    original = png_with_alpha()
    first = images.make_renditions(original, prefix="products/r/7")
    files = media_files(settings)

    second = images.make_renditions(original, prefix="products/r/7")

    assert second == first
    assert media_files(settings) == files


def test_transparency_of_a_png_becomes_white():
    renditions = images.make_renditions(png_with_alpha(), prefix="p")

    medium = rendition(renditions, "medium").convert("RGB")
    assert medium.size == (400, 300)  # never enlarged
    assert all(channel > 245 for channel in medium.getpixel((50, 150)))
    assert is_red(medium.getpixel((350, 150)))


def test_a_cmyk_jpeg_gets_rgb_renditions():
    renditions = images.make_renditions(cmyk_jpeg(), prefix="p")

    medium = rendition(renditions, "medium")
    assert medium.mode == "RGB"
    assert is_red(medium.getpixel((10, 10)))


def test_an_exif_rotated_photo_is_turned_upright():
    renditions = images.make_renditions(exif_rotated_jpeg(), prefix="p")

    assert (renditions["medium"]["width"], renditions["medium"]["height"]) == (200, 400)
    assert rendition(renditions, "medium").size == (200, 400)


def test_renditions_keep_the_colour_profile_of_an_rgb_photo():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(Image.new("RGB", (300, 300), "orange"), "JPEG", icc_profile=profile)

    renditions = images.make_renditions(original, prefix="p")

    assert rendition(renditions, "medium").info.get("icc_profile") == profile
    assert rendition(renditions, "medium", "webp").info.get("icc_profile") == profile


def test_renditions_carry_no_exif_metadata_such_as_gps():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS IFD: where the seller lives
    original = encode(Image.new("RGB", (300, 300)), "JPEG", exif=exif)

    renditions = images.make_renditions(original, prefix="p")

    assert not rendition(renditions, "large").getexif()


@pytest.mark.parametrize("mode", ["L", "LA", "P", "I;16", "1"])
def test_every_source_mode_gets_rgb_renditions(mode):
    image = Image.new(mode, (200, 200))
    original = encode(image, "PNG" if mode != "P" else "GIF")

    renditions = images.make_renditions(original, prefix="p")

    assert rendition(renditions, "thumbnail").mode == "RGB"


def test_a_truncated_jpeg_passes_the_upload_check_but_fails_processing_as_an_image_error():
    photo = encode(Image.effect_noise((800, 800), 50).convert("RGB"), "JPEG")
    truncated = photo[: len(photo) // 2]
    images.validate_image_upload(upload(truncated))  # the header is fine: the check does not decode

    with pytest.raises(images.ImageProcessingError):
        images.make_renditions(truncated, prefix="p")


def test_a_storage_failure_is_not_mistaken_for_a_bad_image(monkeypatch):
    def unavailable(*args, **kwargs):
        raise ConnectionError("storage unreachable")

    monkeypatch.setattr(default_storage, "save", unavailable)

    with pytest.raises(ConnectionError):
        images.make_renditions(png_with_alpha(), prefix="p")


def test_rendition_url_is_the_storage_url_or_none():
    renditions = images.make_renditions(png_with_alpha(), prefix="products/r/3")

    assert images.rendition_url(renditions, "thumbnail").startswith("/media/products/r/3/")
    assert images.rendition_url(renditions, "thumbnail", "jpeg").endswith(".jpg")
    assert images.rendition_url({}, "thumbnail") is None


def test_a_16_bit_greyscale_png_keeps_its_tones_instead_of_turning_white():
    original = encode(Image.new("I;16", (200, 200), 32768), "PNG")  # mid-grey in 16 bits

    renditions = images.make_renditions(original, prefix="p")

    grey = rendition(renditions, "medium").getpixel((100, 100))
    assert all(120 <= channel <= 136 for channel in grey)


def test_the_public_service_makes_renditions_and_refuses_bytes_pillow_cannot_read():
    renditions = services.image_renditions_make(original=png_with_alpha(), prefix="demo/r/1")
    assert renditions["thumbnail"]["webp"].startswith("demo/r/1/")

    with pytest.raises(ValidationError) as caught:
        services.image_renditions_make(original=b"not an image", prefix="demo/r/2")
    assert caught.value.message_dict == {"image": [images.NOT_AN_IMAGE]}

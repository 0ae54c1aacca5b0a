"""Generated product photos for the demo catalogue: a soft studio backdrop, a shadow and an object
in the category's colours. A few dozen are made once and shared by every demo product; each goes
through the real rendition pipeline (catalog.images)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

SIZE = 1200

# (backdrop top, backdrop bottom, object colour, accent) per root category, in demo_data order
PALETTES = [
    ((236, 239, 244), (208, 214, 226), (45, 52, 70), (99, 102, 241)),  # electronics
    ((250, 244, 236), (233, 220, 203), (191, 120, 74), (244, 196, 148)),  # home & kitchen
    ((246, 238, 242), (226, 208, 218), (157, 78, 110), (236, 172, 196)),  # fashion
    ((234, 243, 238), (203, 224, 211), (46, 125, 90), (250, 204, 21)),  # sports
    ((244, 240, 250), (221, 211, 238), (124, 91, 180), (233, 213, 255)),  # beauty
    ((255, 247, 230), (252, 226, 182), (234, 88, 12), (59, 130, 246)),  # toys
    ((241, 238, 233), (220, 212, 199), (120, 53, 15), (30, 64, 175)),  # books
    ((244, 248, 235), (222, 232, 200), (101, 130, 40), (220, 38, 38)),  # grocery
    ((238, 242, 236), (211, 221, 205), (71, 85, 105), (234, 179, 8)),  # garden & DIY
    ((248, 243, 235), (231, 219, 200), (146, 98, 60), (16, 185, 129)),  # pets
    ((240, 246, 252), (214, 229, 245), (96, 165, 250), (251, 191, 36)),  # baby
    ((236, 238, 240), (205, 210, 215), (30, 41, 59), (239, 68, 68)),  # automotive
]


def _backdrop(top, bottom) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((SIZE, SIZE))
    return Image.composite(Image.new("RGB", (SIZE, SIZE), bottom), Image.new("RGB", (SIZE, SIZE), top), gradient)


def product_photo(palette_index: int, variation: int) -> bytes:
    """A JPEG of one generated product shot."""
    top, bottom, colour, accent = PALETTES[palette_index % len(PALETTES)]
    rng = random.Random(palette_index * 100 + variation)
    image = _backdrop(top, bottom)

    shadow = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(shadow).ellipse((300, 900, 900, 990), fill=120)
    image.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(28)).point(lambda v: v // 3))

    draw = ImageDraw.Draw(image)
    shape = variation % 4
    if shape == 0:  # a box
        draw.rounded_rectangle((330, 300, 870, 920), radius=48, fill=colour)
        draw.rounded_rectangle((330, 300, 870, 420), radius=48, fill=accent)
    elif shape == 1:  # a bottle
        draw.rounded_rectangle((500, 220, 700, 340), radius=24, fill=accent)
        draw.rounded_rectangle((400, 320, 800, 930), radius=120, fill=colour)
        draw.rounded_rectangle((440, 560, 760, 720), radius=20, fill=accent)
    elif shape == 2:  # a round object
        draw.ellipse((300, 300, 900, 900), fill=colour)
        draw.ellipse((420, 420, 780, 780), fill=accent)
        draw.ellipse((540, 540, 660, 660), fill=colour)
    else:  # a device
        draw.rounded_rectangle((260, 330, 940, 860), radius=40, fill=colour)
        draw.rounded_rectangle((300, 370, 900, 760), radius=16, fill=accent)
        draw.ellipse((570, 785, 630, 845), fill=accent)
    highlight = Image.new("L", (SIZE, SIZE), 0)
    x = rng.randint(380, 520)
    ImageDraw.Draw(highlight).ellipse((x, 330, x + 140, 560), fill=70)
    image.paste((255, 255, 255), mask=highlight.filter(ImageFilter.GaussianBlur(40)))

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()

"""A lost child's photo leaves downscaled and watermarked."""

from __future__ import annotations

import io

from PIL import Image, ImageChops

from lakeguard.notify.photo import prepare_photo


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (30, 90, 160))
    image.info["note"] = "camera metadata"
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_photo_is_downscaled_and_carries_the_case_number() -> None:
    prepared = prepare_photo(_png(2000, 1500), "LC-2024-0012")
    with Image.open(io.BytesIO(prepared)) as image:
        assert image.format == "JPEG" and image.size == (640, 480)
        plain = Image.new("RGB", image.size, (30, 90, 160))
        diff = ImageChops.difference(image.convert("RGB"), plain).convert("L")
    mask = diff.point(lambda v: 255 if v > 40 else 0)
    # The watermark covers the picture in rows: lighter pixels in every quarter of it.
    for box in ((0, 0, 320, 240), (320, 0, 640, 240), (0, 240, 320, 480), (320, 240, 640, 480)):
        assert mask.crop(box).histogram()[255] > 0.02 * 320 * 240
    other = prepare_photo(_png(2000, 1500), "LC-2024-0099")
    assert other != prepared


def test_a_small_photo_is_not_enlarged() -> None:
    with Image.open(io.BytesIO(prepare_photo(_png(300, 400), "LC-1"))) as image:
        assert image.size == (300, 400)

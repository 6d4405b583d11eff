"""A lost child's photo as it may leave the platform: downscaled and watermarked."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

MAX_SIDE_PX = 640
JPEG_QUALITY = 80


def prepare_photo(data: bytes, case_number: str, *, max_side: int = MAX_SIDE_PX) -> bytes:
    """The photo no larger than ``max_side`` on its longer side, the case number across it.

    The watermark repeats in rows over the whole picture, so a crop cannot drop it; the result
    is a JPEG with no metadata (no EXIF location or camera) carried over.
    """
    with Image.open(io.BytesIO(data)) as original:
        image = original.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = ImageFont.load_default(size=max(12, image.height // 16))
    mark = f"LakeGuard {case_number}"
    left, top, right, bottom = draw.textbbox((0, 0), mark, font=font)
    step_x, step_y = int(right - left) + 24, max(int(bottom - top) * 3, 1)
    for row, y in enumerate(range(0, image.height, step_y)):
        offset = (row % 2) * step_x // 2
        for x in range(-offset, image.width, step_x):
            draw.text((x, y), mark, font=font, fill=(255, 255, 255, 110))
    marked = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    marked.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()

"""PNG data URLs -> uint8 arrays, checking the declared size in the header before decoding anything."""
from __future__ import annotations

import base64
import binascii
import io
import struct

import numpy as np

from engine.errors import DataError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PREFIXES = ("data:image/png;base64,",)


class ImageTooLarge(DataError):
    pass


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a valid PNG has first."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise DataError("image: not a PNG file (bad signature or missing IHDR header)")
    return struct.unpack(">II", data[16:24])


def decode_data_url(url: str, max_side: int, max_pixels: int) -> np.ndarray:
    """'data:image/png;base64,...' -> (H, W) or (H, W, 2) uint8 (grey + alpha when transparent)."""
    if not url.startswith(PREFIXES):
        raise DataError("image: must be a data URL starting with 'data:image/png;base64,'")
    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise DataError(f"image: invalid base64 ({e})") from None
    width, height = png_size(data)
    if width < 1 or height < 1 or width > max_side or height > max_side or width * height > max_pixels:
        raise ImageTooLarge(f"image: {width}x{height} pixels is too large; the limit is {max_side} pixels per side "
                            f"and {max_pixels} pixels in all (max_image_side, max_image_pixels)")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            transparent = "A" in img.mode or "transparency" in img.info
            img = img.convert("LA" if transparent else "L")
            return np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"image: cannot decode the PNG ({e})") from None

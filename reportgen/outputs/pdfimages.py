"""Chart PNGs put into the PDF as they are, without decoding and re-encoding them.

A palette PNG's IDAT data (zlib-compressed rows, each led by its PNG filter byte) is already
what a PDF image stream with `/FlateDecode` and `/DecodeParms << /Predictor 15 >>` holds, and
its PLTE chunk is an `/Indexed /DeviceRGB` colour table (PDF 32000-1:2008, 7.4.4.4 and 8.6.6.3).
WeasyPrint instead converts every palette PNG to RGB and encodes it twice, which took a third of
a big report's PDF time and made its images 2-3x larger.

`PaletteImage` is handed to WeasyPrint through its image cache (the `cache` option, keyed by
the image URL) and follows the small protocol WeasyPrint's own `RasterImage` follows:
`get_intrinsic_size`, `draw`, `get_x_object` and an `id`. Any PNG it does not cover (another
colour type, bit depth, interlacing, transparency) is left to WeasyPrint.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PALETTE_COLOUR_TYPE = 3


@dataclass(frozen=True)
class PaletteImage:
    id: str
    width: int
    height: int
    palette: bytes  # PLTE: 3 bytes (R, G, B) per entry
    rows: bytes  # the concatenated IDAT data

    @classmethod
    def from_png(cls, png: bytes, image_id: str) -> PaletteImage | None:
        """The image if `png` is a well-formed 8-bit, non-interlaced, opaque palette PNG.

        Pillow packs palettes of up to 16 colours into 1-4 bits per pixel; PDF allows that too,
        but pypdf decodes such images wrongly (poppler gets them right), so they are left to
        WeasyPrint. Charts have hundreds of colours (anti-aliasing) and are 8-bit.
        """
        chunks = png_chunks(png)
        if chunks is None or not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
            return None
        width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
        kinds = {kind for kind, _ in chunks}
        if (depth != 8 or colour_type != PALETTE_COLOUR_TYPE or interlace or width == 0 or height == 0
                or b"tRNS" in kinds or b"PLTE" not in kinds or b"IDAT" not in kinds):
            return None
        palette = next(data for kind, data in chunks if kind == b"PLTE")
        if not palette or len(palette) % 3 or len(palette) > 3 * 256:
            return None
        rows = b"".join(data for kind, data in chunks if kind == b"IDAT")
        return cls(image_id, width, height, palette, rows)

    # WeasyPrint's image protocol -------------------------------------------------------

    def get_intrinsic_size(self, resolution: float, font_size: float) -> tuple[float, float, float]:
        return self.width / resolution, self.height / resolution, self.width / self.height

    def draw(self, stream, concrete_width: float, concrete_height: float, style) -> None:
        # WeasyPrint < 70 passes the image-rendering value itself, later versions the style.
        rendering = style if isinstance(style, str) else style["image_rendering"]
        name = stream.add_image(self, rendering == "auto", 1)
        stream.transform(concrete_width, 0, 0, -concrete_height, 0, concrete_height)
        stream.draw_x_object(name)

    def get_x_object(self, interpolate: bool, dpi_ratio: float):
        import pydyf  # WeasyPrint's own PDF writer

        colours = len(self.palette) // 3
        return pydyf.Stream([self.rows], pydyf.Dictionary({
            "Type": "/XObject",
            "Subtype": "/Image",
            "Width": self.width,
            "Height": self.height,
            # A hex string: a literal one would let readers turn a CR byte of the table into LF.
            "ColorSpace": pydyf.Array(["/Indexed", "/DeviceRGB", colours - 1,
                                       b"<" + self.palette.hex().encode() + b">"]),
            "BitsPerComponent": 8,
            "Interpolate": "true" if interpolate else "false",
            "Filter": "/FlateDecode",
            "DecodeParms": pydyf.Dictionary({"Predictor": 15, "Colors": 1, "BitsPerComponent": 8,
                                             "Columns": self.width}),
        }))


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]] | None:
    """(type, data) of every chunk up to IEND, or None if the bytes are not an intact PNG."""
    if not png.startswith(PNG_SIGNATURE):
        return None
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        kind = png[pos + 4:pos + 8]
        end = pos + 8 + length
        if end + 4 > len(png):
            return None
        data = png[pos + 8:end]
        if zlib.crc32(kind + data) != struct.unpack_from(">I", png, end)[0]:
            return None
        if kind == b"IEND":
            return chunks
        chunks.append((kind, data))
        pos = end + 4
    return None

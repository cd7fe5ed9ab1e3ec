"""The PDF laid out while its charts are drawn (`lay_out`, from their planned sizes), its pages
and fonts written meanwhile, and the charts' pixels put in once they are (`EarlyLayout.finish`).

WeasyPrint's layout needs only each image's size; its pixels are read when the PDF is written,
after every page and font (weasyprint.pdf.generate_pdf).
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field

from reportgen.outputs import html
from reportgen.outputs.pdfimages import PaletteImage
from reportgen.outputs.weasy import data_only_fetcher, quiet_weasyprint
from reportgen.report import Report, pending_size


def lay_out(provisional: Report) -> EarlyLayout | None:
    """The PDF of `provisional` laid out, its pages and fonts being written (EarlyLayout);
    None when this WeasyPrint cannot lay out that way."""
    weasyprint = quiet_weasyprint()
    images: dict[str, PaletteImage | PendingImage] = {}
    pending: list[PendingImage] = []

    def image_src(png: bytes) -> str:
        url = f"data:image/png;reportgen-chart-{len(images)},"
        size = pending_size(png)
        if size is None:
            return html.data_uri(png)
        images[url] = image = PendingImage(f"reportgen{len(images)}", *size)
        pending.append(image)
        return url

    text = html.render(provisional, medium="print", image_src=image_src).decode("utf-8")
    try:
        document = weasyprint.HTML(string=text, base_url=None, url_fetcher=data_only_fetcher()).render(cache=images)
    except (AttributeError, TypeError, KeyError):
        return None
    early = EarlyLayout(document, _without_images(text), pending)
    early.start_writing()
    return early


def _without_images(text: str) -> str:
    """The document without what only drawing a chart decides: each image's source and alt text."""
    return re.sub(r'<img src="[^"]*" alt="[^"]*"', "<img", text)


class NotDrawn(Exception):
    """The PDF laid out early will not get its charts' pixels (the report changed)."""


@dataclass
class PendingImage:
    """A chart in WeasyPrint's layout before it is drawn: its size now, its pixels (`drawn`) by
    the time the PDF is written, which waits for them (`given`). The image protocol of
    `PaletteImage`."""

    id: str
    width: int
    height: int
    drawn: PaletteImage | None = None
    given: threading.Event = field(default_factory=threading.Event)

    def get_intrinsic_size(self, resolution: float, font_size: float) -> tuple[float, float, float]:
        return self.width / resolution, self.height / resolution, self.width / self.height

    def draw(self, stream, concrete_width: float, concrete_height: float, style) -> None:
        PaletteImage.draw(self, stream, concrete_width, concrete_height, style)  # type: ignore[arg-type]

    def get_x_object(self, interpolate: bool, dpi_ratio: float):
        self.given.wait()
        if self.drawn is None:
            raise NotDrawn(self.id)
        return self.drawn.get_x_object(interpolate, dpi_ratio)


@dataclass
class EarlyLayout:
    """The PDF laid out before the charts were drawn, waiting for their pixels.

    WeasyPrint draws every page and embeds the fonts before it asks any image for its pixels
    (weasyprint.pdf.generate_pdf): `start_writing` has a thread do all that while the charts
    are drawn, ~0.17 s of the benchmark build that otherwise came after the last chart with one
    core idle. The thread then waits in PendingImage.get_x_object until `finish` gives the
    pixels, or tells it they will not come. While the workers draw, this process only waits for
    them, so the thread takes no time from other work here."""

    document: object  # weasyprint.Document
    text: str  # the laid-out HTML without image sources and alt texts
    pending: list[PendingImage]
    writing: threading.Thread | None = None
    written: list = field(default_factory=list)  # the thread's PDF, or the exception it raised

    def start_writing(self) -> None:
        document, written = self.document, self.written  # not self: see the finalizer below

        def write() -> None:
            try:
                written.append(document.write_pdf())  # type: ignore[attr-defined]
            except Exception as error:  # raised again by finish, in the caller's thread
                written.append(error)

        self.writing = threading.Thread(target=write, name="reportgen-pdf", daemon=True)
        # A layout dropped without `finish` (the build failed after it, a caller that did not
        # need it) tells its thread that no pixels will come, so the thread and the document
        # it holds do not outlive it.
        weakref.finalize(self, _release, list(self.pending))
        self.writing.start()

    def finish(self, report: Report) -> bytes | None:
        """The PDF with the report's drawn charts, or None when the report is not the one laid
        out (its text differs, a chart failed or came out at another size, or is a PNG the PDF
        cannot take as it is): then it must be laid out again."""
        palettes = self._palettes(report)
        for image, palette in zip(self.pending, palettes or []):
            image.drawn = palette
        _release(self.pending)  # with the pixels, or with word that none will come
        try:
            if self.writing is not None:  # the first finish takes what the thread wrote
                self.writing.join()
                self.writing, result = None, self.written.pop()
                if isinstance(result, BaseException):
                    raise result
                if palettes is not None:
                    return result
            return None if palettes is None else self.document.write_pdf()  # type: ignore[attr-defined]
        except (AttributeError, TypeError, KeyError, NotDrawn):
            return None

    def _palettes(self, report: Report) -> list[PaletteImage] | None:
        """The report's charts as the images laid out, or None when it is not the report laid out."""
        drawn: list[bytes] = []

        def image_src(png: bytes) -> str:
            drawn.append(png)
            return ""

        text = html.render(report, medium="print", image_src=image_src).decode("utf-8")
        if _without_images(text) != self.text or len(drawn) != len(self.pending):
            return None
        palettes = []
        for image, png in zip(self.pending, drawn):
            palette = PaletteImage.from_png(png, image.id)
            if palette is None or (palette.width, palette.height) != (image.width, image.height):
                return None
            palettes.append(palette)
        return palettes


def _release(pending: list[PendingImage]) -> None:
    """Let the writer go on: an image without pixels (`drawn`) raises NotDrawn in it."""
    for image in pending:
        image.given.set()

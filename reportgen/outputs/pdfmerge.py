"""A PDF written to a file while documents are added to it, so a merge holds one document at a time.

pypdf's PdfWriter keeps every merged object until it writes: a 250-run sweep's 26 MB PDF took
160 MB in it, and a 2,000-run one would take over 1 GB. Here each added document's objects are
renumbered and written out at once. Only their byte offsets, the page numbers, the named
destinations and the outline are kept, and those are written at the end.

`merge_chunks` merges the chunks of a sweep's PDF (`pdf.write_in_chunks`) this way, pointing
each link to another chunk at its named destination and stamping on the page numbers.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import unquote

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from reportgen.outputs.templating import read_static
from reportgen.outputs.weasy import data_only_fetcher, quiet_weasyprint

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ANCHOR_URI = "reportgen-anchor:"  # a link to an anchor of the report, while the chunks are laid out apart


@dataclass
class _Entry:
    """One outline entry: its title, where it goes (renumbered), and the entries under it."""
    title: str
    dest: PdfObject
    children: list[_Entry] = field(default_factory=list)
    number: int = 0  # its object number, once the outline is written


class PdfFile:
    """`add` documents, then `finish`: the pages of all of them in order, with their named
    destinations (a name defined twice keeps its first place) and their outlines one after the
    other. Pages must carry their own /MediaBox and /Resources (WeasyPrint's do), since the
    documents' page trees are not copied."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._offsets: list[int] = [0]  # by object number; 0 is the free list's head
        out.write(HEADER)
        self._pages = self._new_number()
        self._page_numbers: list[int] = []
        self._dests: dict[str, PdfObject] = {}
        self._outline: list[_Entry] = []

    def add(self, document: PdfWriter) -> None:
        """Write every page of `document`, with all it refers to; keep its destinations and outline."""
        numbers: dict[int, int] = {}  # the document's object numbers -> ours
        waiting: deque[tuple[int, IndirectObject]] = deque()

        def number_of(ref: IndirectObject) -> int:
            if ref.idnum not in numbers:
                numbers[ref.idnum] = self._new_number()
                waiting.append((numbers[ref.idnum], ref))
            return numbers[ref.idnum]

        def renumbered(obj: PdfObject) -> PdfObject:
            if isinstance(obj, IndirectObject):
                return IndirectObject(number_of(obj), 0, None)
            if isinstance(obj, DictionaryObject):  # streams are dictionaries too
                for key, value in list(obj.items()):
                    obj[key] = renumbered(value)
            elif isinstance(obj, ArrayObject):
                for i, value in enumerate(obj):
                    obj[i] = renumbered(value)
            return obj

        page_set = set()
        for page in document.pages:
            assert page.indirect_reference is not None  # a PdfWriter's pages are its objects
            del page[NameObject("/Parent")]  # the document's page tree stays behind
            page_set.add(number_of(page.indirect_reference))
            self._page_numbers.append(number_of(page.indirect_reference))
        for name, dest in _name_tree(document.root_object.get("/Names", {}).get("/Dests")):
            self._dests.setdefault(name, renumbered(dest))
        outlines = document.root_object.get("/Outlines")
        self._outline += _entries(outlines.get_object().get("/First") if outlines else None, renumbered)
        while waiting:
            number, ref = waiting.popleft()
            target = ref.get_object()
            obj = renumbered(target) if target is not None else NullObject()  # a dangling reference reads as null
            if number in page_set and isinstance(obj, DictionaryObject):
                obj[NameObject("/Parent")] = IndirectObject(self._pages, 0, None)
            self._write(number, obj)

    def finish(self, info: dict[str, str]) -> None:
        """Write the page tree, the outline, the catalog, `info` and the cross-reference table."""
        kids = ArrayObject(IndirectObject(n, 0, None) for n in self._page_numbers)
        self._write(self._pages, DictionaryObject({NameObject("/Type"): NameObject("/Pages"), NameObject("/Kids"): kids,
                                                   NameObject("/Count"): NumberObject(len(kids))}))
        catalog = DictionaryObject({NameObject("/Type"): NameObject("/Catalog"),
                                    NameObject("/Pages"): IndirectObject(self._pages, 0, None)})
        if self._outline:
            catalog[NameObject("/Outlines")] = IndirectObject(self._write_outline(), 0, None)
        if self._dests:
            flat = ArrayObject()
            for name in sorted(self._dests):  # a name tree's keys are in order
                flat += [TextStringObject(name), self._dests[name]]
            catalog[NameObject("/Names")] = DictionaryObject(
                {NameObject("/Dests"): DictionaryObject({NameObject("/Names"): flat})})
        root = self._new_number()
        self._write(root, catalog)
        info_number = self._new_number()
        self._write(info_number, DictionaryObject({NameObject(k): TextStringObject(v) for k, v in info.items()}))
        self._write_xref(root, info_number)

    def _write_outline(self) -> int:
        top = self._new_number()
        count = self._write_entries(self._outline, top)
        self._write_at(top, {"/Count": NumberObject(count), **self._ends(self._outline)})
        return top

    def _write_entries(self, entries: list[_Entry], parent: int) -> int:
        """Write `entries` (children of object `parent`), all open as WeasyPrint leaves them;
        the number of entries under `parent`, its own children and theirs."""
        for entry in entries:
            entry.number = self._new_number()
        total = len(entries)
        for i, entry in enumerate(entries):
            below = self._write_entries(entry.children, entry.number)
            total += below
            fields: dict[str, PdfObject] = {"/Title": TextStringObject(entry.title), "/Dest": entry.dest,
                                            "/Parent": IndirectObject(parent, 0, None)}
            if i:
                fields["/Prev"] = IndirectObject(entries[i - 1].number, 0, None)
            if i + 1 < len(entries):
                fields["/Next"] = IndirectObject(entries[i + 1].number, 0, None)
            if entry.children:
                fields.update(self._ends(entry.children), **{"/Count": NumberObject(below)})
            self._write_at(entry.number, fields)
        return total

    @staticmethod
    def _ends(entries: list[_Entry]) -> dict[str, PdfObject]:
        if not entries:
            return {}
        return {"/First": IndirectObject(entries[0].number, 0, None),
                "/Last": IndirectObject(entries[-1].number, 0, None)}

    def _write_at(self, number: int, fields: dict[str, PdfObject]) -> None:
        self._write(number, DictionaryObject({NameObject(k): v for k, v in fields.items()}))

    def _new_number(self) -> int:
        self._offsets.append(-1)
        return len(self._offsets) - 1

    def _write(self, number: int, obj: PdfObject) -> None:
        self._offsets[number] = self._out.tell()
        self._out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self._out)
        self._out.write(b"\nendobj\n")

    def _write_xref(self, root: int, info: int) -> None:
        missing = [n for n, offset in enumerate(self._offsets) if offset < 0]
        assert not missing, f"objects numbered but never written: {missing[:5]}"
        start = self._out.tell()
        lines = [f"xref\n0 {len(self._offsets)}\n", "0000000000 65535 f \n",
                 *(f"{offset:010d} 00000 n \n" for offset in self._offsets[1:])]
        self._out.write("".join(lines).encode())
        self._out.write(f"trailer\n<< /Size {len(self._offsets)} /Root {root} 0 R /Info {info} 0 R >>\n"
                        f"startxref\n{start}\n%%EOF\n".encode())


def _name_tree(node: PdfObject | None) -> Iterator[tuple[str, PdfObject]]:
    """(name, destination) of a name tree, in its order; a destination given as {/D: [...]} is the array."""
    if node is None:
        return
    node = node.get_object()
    assert isinstance(node, DictionaryObject)
    names = node.get("/Names", ArrayObject())
    for i in range(0, len(names) - 1, 2):
        dest = names[i + 1].get_object()
        if isinstance(dest, DictionaryObject):
            dest = dest["/D"].get_object()
        yield str(names[i]), dest
    for kid in node.get("/Kids", ArrayObject()):
        yield from _name_tree(kid)


def _entries(first: PdfObject | None, renumbered: Callable[[PdfObject], PdfObject]) -> list[_Entry]:
    """The outline entries from `first` along /Next, with their children, destinations renumbered."""
    found = []
    item = first.get_object() if first is not None else None
    while isinstance(item, DictionaryObject):
        dest = item.get("/Dest")
        action = item.get("/A")
        if dest is None and action is not None:
            dest = action.get_object().get("/D")  # a GoTo action
        found.append(_Entry(str(item.get("/Title", "")), renumbered(dest.get_object()) if dest is not None else
                            ArrayObject(), _entries(item.get("/First"), renumbered)))
        nxt = item.get("/Next")
        item = nxt.get_object() if nxt is not None else None
    return found


def merge_chunks(out: BinaryIO, files: list[tuple[str, int]], anchors: set[str], info: dict[str, str],
                 page_size: str) -> None:
    """The chunks in `files` (each a PDF file and its number of pages), in order, into `out`,
    with what a chunk laid out alone cannot know: where its links to other chunks' `anchors`
    go, and its page numbers in the whole."""
    total, first = sum(pages for _, pages in files), 1
    merged = PdfFile(out)
    for path, pages in files:
        writer = PdfWriter(clone_from=path)
        _point_links_at_anchors(writer, anchors)
        _stamp_page_numbers(writer, page_size, first, total)
        merged.add(writer)
        first += pages
    merged.finish(info)


def _point_links_at_anchors(writer: PdfWriter, anchors: set[str]) -> None:
    """Each link to ANCHOR_URI + name goes to the named destination `name`; a link to an anchor
    no chunk has is dropped (as WeasyPrint drops it in one document)."""
    for pdf_page in writer.pages:
        if "/Annots" not in pdf_page:
            continue
        kept = ArrayObject()
        annotations = pdf_page["/Annots"].get_object()
        assert isinstance(annotations, ArrayObject)
        for ref in annotations:
            annotation = ref.get_object()
            uri = annotation.get("/A", {}).get("/URI", "")
            if isinstance(uri, str) and uri.startswith(ANCHOR_URI):
                name = unquote(uri[len(ANCHOR_URI):])
                if name not in anchors:
                    continue
                del annotation["/A"]
                annotation[NameObject("/Dest")] = TextStringObject(name)
            kept.append(ref)
        pdf_page[NameObject("/Annots")] = kept


def _stamp_page_numbers(writer: PdfWriter, page_size: str, first: int, total: int) -> None:
    """Page numbers `first`.. of `total` onto the pages of `writer`."""
    size = "letter" if page_size.lower() == "letter" else "A4"
    text = (f"<style>{read_static('pdf.css')}\n@page {{ size: {size}; @bottom-center {{ content: counter(page) "
            f"\" / {total}\"; }} }}\n@page :first {{ counter-reset: page {first}; }}\n"
            "div { break-after: page; }</style>" + "<div></div>" * len(writer.pages))
    weasyprint = quiet_weasyprint()
    numbers = PdfReader(io.BytesIO(weasyprint.HTML(string=text, base_url=None,
                                                   url_fetcher=data_only_fetcher()).write_pdf()))
    assert len(numbers.pages) == len(writer.pages), (len(numbers.pages), len(writer.pages))
    for pdf_page, number in zip(writer.pages, numbers.pages):
        pdf_page.merge_page(number)
        pdf_page.compress_content_streams()  # merge_page leaves them uncompressed: 7x the bytes

"""The .eml digest, read back with Python's email package as a mail client would."""

from __future__ import annotations

import email
import email.policy
import re

from reportgen.outputs import mail
from tests.outputs.factory import HOSTILE_TAG, chart, finding, make_report

GMAIL_CLIP_BYTES = 102 * 1024


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def html_of(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_structure_is_alternative_with_plain_text_then_related_html():
    msg = parse(mail.render(make_report()))
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and "Lower the learning rate." in plain.get_content()
    assert related.get_content_type() == "multipart/related"
    assert related.get_payload()[0].get_content_type() == "text/html"
    assert msg["Subject"].startswith("[reportgen] critical: Nightly training report")


def test_every_cid_reference_resolves_to_an_attached_png():
    msg = parse(mail.render(make_report()))
    references = re.findall(r'src="cid:([^"]+)"', html_of(msg))
    attached = {part["Content-ID"].strip("<>"): part for part in msg.walk() if part["Content-ID"]}
    assert references and set(references) == set(attached)
    for cid in references:
        assert attached[cid].get_content_type() == "image/png"
        assert attached[cid].get_content().startswith(b"\x89PNG\r\n\x1a\n")


def test_html_has_no_data_uri_no_style_block_and_inline_styles():
    report = make_report()
    report.findings.append(finding("baseline", HOSTILE_TAG, "info"))
    body = html_of(parse(mail.render(report)))
    assert "data:" not in body and "<style" not in body and "<script" not in body
    assert body.count('style="') > 20 and 'style=""' not in body
    assert HOSTILE_TAG not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_html_part_stays_under_gmail_clip_size_with_many_findings():
    report = make_report()
    report.findings = [finding("baseline", "dense1", "warning", f"rule_{i}") for i in range(2000)]
    msg = parse(mail.render(report))
    body = html_of(msg).encode("utf-8")
    assert len(body) < GMAIL_CLIP_BYTES
    assert "more finding" in html_of(msg)  # the rest are counted, not silently dropped


def test_charts_are_the_run_pages_figures():
    """Per run its overview, then the offset chart (TensorBoard's picture) of its worst layer;
    then the runs compared."""
    report = make_report(n_runs=2)
    first, second = report.runs
    first.overview, second.overview = chart("baseline", "overview", "overview"), chart("lr=0.1", "overview", "overview")
    picked = mail.pick_charts(report)
    dense1 = first.layers[0]
    offset = next(c for c in dense1.charts if c.kind == "offset")
    assert picked[:2] == [first.overview, offset]  # the critical layer's offset chart
    assert picked[2] is second.overview and picked[3].kind == "offset" and picked[3].tag.startswith("dense2")
    assert picked[-1] is report.comparison_charts[0] and len(picked) <= mail.MAX_CHARTS


def test_attach_pdf_makes_a_mixed_message_with_the_pdf():
    report = make_report()
    report.artifacts = ["nightly.html", "nightly.pdf"]
    msg = parse(mail.render(report, pdf=b"%PDF-1.7 test"))
    assert msg.get_content_type() == "multipart/mixed"
    attachment = next(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == "nightly.pdf"
    assert attachment.get_content() == b"%PDF-1.7 test"
    assert "attached as nightly.pdf" in msg.get_body(("plain",)).get_content()


def test_styles_come_from_email_css():
    styles = mail.email_styles()
    assert {"badge", "badge-critical", "finding", "img"} <= set(styles)
    assert mail.style("badge", "nonexistent") == styles["badge"]

"""The report as an email: a digest that mail clients show as sent.

Gmail and Outlook drop `data:` images and <style> blocks, and Gmail clips HTML over ~102 KB, so
the message is `multipart/alternative`: a plain-text part, then a `multipart/related` HTML part
whose charts are attached images referenced by `cid:`, with every style inline. The digest holds
the summary, the findings and the charts of the layers with findings; `--attach-pdf` adds the
full PDF (the message then becomes `multipart/mixed`).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache
from typing import Any

from reportgen.charts.kinds import email_rank
from reportgen.findings import Finding
from reportgen.outputs.atomic import OutputError
from reportgen.outputs.templating import environment, read_static, text_environment
from reportgen.report import Chart, Report

HTML_LIMIT = 100_000  # bytes; Gmail clips an HTML body over 102 KB ("[Message clipped]")
MAX_CHARTS = 8  # attached charts (not in the HTML's size): each run's page figures, then a comparison
MAX_FINDINGS = 20  # findings written out; the rest are counted, and the full report has them
DEFAULT_SENDER = "reportgen <reportgen@localhost>"


@dataclass
class Digest:
    findings: list[Finding]
    hidden_findings: int
    charts: list[Chart]


def pick_charts(report: Report, limit: int = MAX_CHARTS) -> list[Chart]:
    """The run pages' figures: per run its overview (every layer, first step against last) and
    the offset chart (TensorBoard's picture) of the layer with its worst finding, else its trend;
    then, when room is left, the runs compared."""
    per_run: list[list[Chart]] = []
    for run in report.runs:
        charts = [run.overview] if run.overview else []
        worst = next((f for f in run.top_findings if f.severity != "info"), None)
        layer = next((lay for lay in run.layers if worst and lay.name == worst.layer), None)
        views = sorted(layer.charts, key=lambda chart: email_rank(chart.kind))[:1] if layer else []
        charts += [c for c in views if c.kind != "layer"] or ([run.trend] if run.trend else [])
        per_run.append(charts)
    picked = [c for charts in per_run for c in charts]
    return (picked + report.comparison_charts[:1])[:limit]


@lru_cache(maxsize=1)
def email_styles() -> dict[str, str]:
    """`.name { declarations }` rules of templates/email.css, by name."""
    css = re.sub(r"/\*.*?\*/", "", read_static("email.css"), flags=re.S)
    return {name: " ".join(body.split()).rstrip(";").strip()
            for name, body in re.findall(r"\.([\w-]+)\s*\{([^}]*)\}", css)}


def style(*names: str) -> str:
    styles = email_styles()
    return "; ".join(styles[name] for name in names if name in styles)


def domain_of(sender: str) -> str:
    """The domain of the sender's address, for Message-ID and Content-ID (RFC 5322 asks for one
    the sender controls); "localhost" when the address has none."""
    address = email.utils.parseaddr(sender)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "localhost"


def content_id(chart: Chart, index: int, domain: str = "localhost") -> str:
    digest = hashlib.sha1(chart.png).hexdigest()[:12]
    return f"chart{index}.{digest}@{domain}"


def _context(report: Report, digest: Digest, cids: list[str], attached_pdf: str | None) -> dict[str, Any]:
    names = {run.name for run in report.runs}
    paired = list(zip(digest.charts, cids))
    return {"report": report, "overview": report.overview, "findings": digest.findings,
            "hidden_findings": digest.hidden_findings, "charts": paired,
            "compared": [(c, cid) for c, cid in paired if c.run not in names],
            "artifacts": [a for a in report.artifacts if not a.endswith((".eml", ".md"))],
            "attached_pdf": attached_pdf, "style": style}


def html_body(report: Report, digest: Digest, cids: list[str], attached_pdf: str | None = None) -> str:
    return environment().get_template("email.html").render(_context(report, digest, cids, attached_pdf))


def text_body(report: Report, digest: Digest, attached_pdf: str | None = None) -> str:
    return text_environment().get_template("email.txt").render(_context(report, digest, [], attached_pdf))


def make_digest(report: Report, domain: str = "localhost") -> tuple[Digest, list[str], str]:
    """The largest digest whose HTML stays under HTML_LIMIT (fewer findings written out if needed)."""
    charts = pick_charts(report)
    cids = [content_id(c, i, domain) for i, c in enumerate(charts)]
    shown = min(MAX_FINDINGS, len(report.findings))
    while True:
        digest = Digest(report.findings[:shown], len(report.findings) - shown, charts)
        body = html_body(report, digest, cids)
        if len(body.encode("utf-8")) <= HTML_LIMIT or shown == 0:
            return digest, cids, body
        shown //= 2


def subject(report: Report) -> str:
    count = len(report.findings)
    what = f"{count} finding{'s' if count != 1 else ''}" if count else "no findings"
    return f"[reportgen] {report.verdict}: {report.title} ({what})"


def message(report: Report, pdf: bytes | None = None, sender: str = DEFAULT_SENDER,
            recipients: list[str] | tuple[str, ...] = ()) -> EmailMessage:
    """The digest as an email; `pdf` is attached when given."""
    pdf_name = next((a for a in report.artifacts if a.endswith(".pdf")), "report.pdf") if pdf else None
    domain = domain_of(sender)
    digest, cids, _ = make_digest(report, domain)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = " ".join(subject(report).split())
    msg["From"] = sender
    if recipients:
        msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(_generated(report))
    msg["Message-ID"] = f"<{hashlib.sha1((report.title + report.generated_at).encode()).hexdigest()[:20]}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, no vacation notices
    msg["X-Reportgen-Verdict"] = report.verdict
    msg.set_content(text_body(report, digest, pdf_name))
    msg.add_alternative(html_body(report, digest, cids, pdf_name), subtype="html")
    parts = msg.get_payload()
    assert isinstance(parts, list) and isinstance(parts[1], EmailMessage)  # as add_alternative made them
    html_part = parts[1]
    for chart, cid in zip(digest.charts, cids):
        html_part.add_related(chart.png, "image", "png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png")
    if pdf is not None:
        msg.add_attachment(pdf, "application", "pdf", filename=pdf_name)
    return msg


def read_message(path: str, sender: str | None, recipients: list[str]) -> EmailMessage:
    """An .eml written by `build`, addressed for sending (To and, if given, From replaced)."""
    try:
        with open(path, "rb") as stream:
            msg = email.message_from_binary_file(stream, policy=email.policy.SMTP)
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from None
    if not msg["Subject"] or not msg.is_multipart():
        raise OutputError(f"{path} is not an email that reportgen wrote")
    del msg["To"]
    msg["To"] = ", ".join(recipients)
    if sender:
        del msg["From"]
        msg["From"] = sender
        old = str(msg["Message-ID"] or "")
        if old.endswith("@localhost>"):  # written without a sender: take the sender's domain now
            del msg["Message-ID"]
            msg["Message-ID"] = old.replace("@localhost>", f"@{domain_of(sender)}>")
    return msg


def _generated(report: Report) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(report.generated_at.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The .eml file; `pdf` is attached when given (--attach-pdf)."""
    return message(report, pdf, sender=report.mail_from or DEFAULT_SENDER).as_bytes()


class SendError(Exception):
    """The SMTP server could not be reached or refused the message."""


def send(msg: EmailMessage, host: str, port: int | None = None, *, starttls: bool = False, ssl: bool = False,
         user: str | None = None, password: str | None = None, timeout: float = 60) -> None:
    """Deliver `msg` to the addresses in its To header. TLS certificates are verified."""
    import smtplib
    import ssl as ssl_module

    port = port or (465 if ssl else 587 if starttls else 25)
    context = ssl_module.create_default_context()
    try:
        client: smtplib.SMTP
        if ssl:
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if starttls:
                client.starttls(context=context)
            if user:
                client.login(user, password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"cannot send: {host}:{port} refused the login ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"cannot send: {host}:{port} refused every recipient: {', '.join(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"cannot send through {host}:{port}: {exc}") from None
    if refused:
        raise SendError(f"sent, but {host}:{port} refused: {', '.join(refused)}")

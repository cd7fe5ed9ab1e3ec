"""`reportgen send` against a real SMTP server (aiosmtpd) on localhost, checking what arrives."""

from __future__ import annotations

import email
import email.policy
import re
import socket

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from reportgen import cli
from tools.eventwriter import EventWriter


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox, logins = Inbox(), []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        # handled=False: aiosmtpd then answers "535" itself (handled=True would leave the client waiting)
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, inbox, logins
    finally:
        controller.stop()


@pytest.fixture
def logdir(tmp_path):
    rng = np.random.default_rng(3)
    with EventWriter(str(tmp_path / "logs" / "run1"), wall_time=1_700_000_000.0) as w:
        for step in range(20):
            w.add_histogram("dense/kernel", rng.normal(0, 0.1, 300), step)
            w.add_scalar("loss", 1.5 ** step, step)  # diverging: a critical finding, so charts are attached
    return tmp_path / "logs"


def send(logdir, port, *extra):
    return cli.main(["send", str(logdir), "--to", "team@example.com,lead@example.com", "--smtp-host", "127.0.0.1",
                     "--smtp-port", str(port), "--from", "ci@example.com", "--processes", "1", "-q", *extra])


def test_the_digest_arrives_with_resolvable_images(smtp, logdir, monkeypatch):
    monkeypatch.delenv("REPORTGEN_SMTP_USER", raising=False)
    port, inbox, logins = smtp
    assert send(logdir, port) == cli.EXIT_OK
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "ci@example.com"
    assert envelope.rcpt_tos == ["team@example.com", "lead@example.com"]
    msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative" and "critical" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    attached = {p["Content-ID"].strip("<>") for p in msg.walk() if p["Content-ID"]}
    assert cids and cids == attached
    assert len(html.encode()) < 102 * 1024
    assert "loss" in msg.get_body(("plain",)).get_content()
    assert logins == []  # no credentials in the environment: no login


def test_credentials_come_from_the_environment(smtp, logdir, monkeypatch, tmp_path):
    port, inbox, logins = smtp
    monkeypatch.setenv("REPORTGEN_SMTP_USER", "ci-bot")
    monkeypatch.setenv("REPORTGEN_SMTP_PASSWORD", "s3cret")
    saved = tmp_path / "sent.eml"
    assert send(logdir, port, "--attach-pdf", "--save", str(saved)) == cli.EXIT_OK
    assert logins == [("ci-bot", "s3cret")]
    msg = email.message_from_bytes(inbox.envelopes[0].original_content, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/mixed"
    assert next(msg.iter_attachments()).get_content().startswith(b"%PDF")
    assert saved.read_bytes().count(b"Content-ID") == len([p for p in msg.walk() if p["Content-ID"]])


def test_wrong_password_is_one_line_and_exit_3(smtp, logdir, monkeypatch, capsys):
    port, inbox, _ = smtp
    monkeypatch.setenv("REPORTGEN_SMTP_USER", "ci-bot")
    monkeypatch.setenv("REPORTGEN_SMTP_PASSWORD", "wrong")
    assert send(logdir, port) == cli.EXIT_NOT_SENT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused the login" in err[0] and "wrong" not in err[0]
    assert inbox.envelopes == []


def test_no_password_option_on_the_command_line(smtp, logdir, capsys):
    port, _, _ = smtp
    assert send(logdir, port, "--password", "s3cret") == cli.EXIT_USAGE
    assert "unrecognized arguments" in capsys.readouterr().err


def test_unreachable_server_is_exit_3_without_traceback(logdir, monkeypatch, capsys):
    monkeypatch.delenv("REPORTGEN_SMTP_USER", raising=False)
    assert send(logdir, free_port()) == cli.EXIT_NOT_SENT
    err = capsys.readouterr().err
    assert "cannot send" in err and "Traceback" not in err


def test_password_is_never_sent_unencrypted_to_a_remote_host(logdir, monkeypatch, capsys):
    monkeypatch.setenv("REPORTGEN_SMTP_USER", "ci-bot")
    monkeypatch.setenv("REPORTGEN_SMTP_PASSWORD", "s3cret")
    code = cli.main(["send", str(logdir), "--to", "a@example.com", "--smtp-host", "mail.example.com", "-q"])
    assert code == cli.EXIT_USAGE and "--starttls" in capsys.readouterr().err


def test_a_built_eml_is_sent_as_is_without_building_again(smtp, logdir, monkeypatch, tmp_path):
    monkeypatch.delenv("REPORTGEN_SMTP_USER", raising=False)
    port, inbox, _ = smtp
    built = tmp_path / "report.eml"
    assert cli.main(["build", str(logdir), "-q", "--processes", "1", "-o", str(built)]) == cli.EXIT_OK
    assert send(built, port) == cli.EXIT_OK
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["team@example.com", "lead@example.com"]
    sent = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    original = email.message_from_bytes(built.read_bytes(), policy=email.policy.default)
    assert sent["To"] == "team@example.com, lead@example.com" and sent["From"] == "ci@example.com"
    assert sent.get_body(("html",)).get_content() == original.get_body(("html",)).get_content()


def test_a_file_that_is_not_our_email_is_a_usage_error(smtp, tmp_path, capsys):
    port, inbox, _ = smtp
    bogus = tmp_path / "notes.eml"
    bogus.write_text("hello\n")
    assert send(bogus, port) == cli.EXIT_USAGE
    assert "not an email that reportgen wrote" in capsys.readouterr().err and inbox.envelopes == []


def _self_signed_certificate(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as files: the server's identity for STARTTLS."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def smtp_starttls(tmp_path):
    """A server that offers STARTTLS and takes a login only over TLS, as a mail provider does."""
    import ssl

    cert_file, key_file = _self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    inbox, logins = Inbox(), []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login.decode(), session.ssl is not None))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            tls_context=server_context, require_starttls=True, auth_require_tls=True)
    controller.start()
    try:
        yield controller.port, inbox, logins, cert_file
    finally:
        controller.stop()


def test_starttls_sends_the_login_and_the_report_encrypted(smtp_starttls, logdir, monkeypatch):
    port, inbox, logins, cert_file = smtp_starttls
    monkeypatch.setenv("SSL_CERT_FILE", cert_file)  # the test server's certificate is the one trusted
    monkeypatch.setenv("REPORTGEN_SMTP_USER", "ci-bot")
    monkeypatch.setenv("REPORTGEN_SMTP_PASSWORD", "s3cret")
    assert send(logdir, port, "--starttls") == cli.EXIT_OK
    assert logins == [("ci-bot", True)]  # logged in after the TLS handshake
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["team@example.com", "lead@example.com"]


def test_starttls_refuses_a_server_whose_certificate_it_cannot_verify(smtp_starttls, logdir, monkeypatch, capsys):
    """No trust for the test server's self-signed certificate: nothing is sent, the password
    included, and the reason is one line."""
    port, inbox, logins, _ = smtp_starttls
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's CAs only
    monkeypatch.setenv("REPORTGEN_SMTP_USER", "ci-bot")
    monkeypatch.setenv("REPORTGEN_SMTP_PASSWORD", "s3cret")
    assert send(logdir, port, "--starttls") == cli.EXIT_NOT_SENT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "certificate" in err[0].lower() and "Traceback" not in err[0]
    assert logins == [] and inbox.envelopes == []

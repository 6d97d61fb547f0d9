"""SMTP: where the settings come from, how one outbox row becomes a MIME message, and the session
that hands messages to the server.

The SMTP settings never live in the repository or the database. They are read from the
environment or, in the app, from Streamlit's secrets (.streamlit/secrets.toml, top-level keys
of the same names); the environment wins:

    LEADCORE_SMTP_HOST      the server; unset = no sending (mail waits in the outbox)
    LEADCORE_SMTP_PORT      default 587 for starttls, 465 for ssl, 25 for none
    LEADCORE_SMTP_SECURITY  starttls (default) | ssl | none
    LEADCORE_SMTP_USER      login name; no login when empty
    LEADCORE_SMTP_PASSWORD  its password
    LEADCORE_SMTP_FROM      the sender address (default: the user, when it is an address)

The command line (`python -m leadcore send-mail`) reads the same secrets file itself.
"""
from __future__ import annotations

import smtplib
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from leadcore.errors import LeadcoreError

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
ENV_KEYS = ("LEADCORE_SMTP_HOST", "LEADCORE_SMTP_PORT", "LEADCORE_SMTP_SECURITY", "LEADCORE_SMTP_USER",
            "LEADCORE_SMTP_PASSWORD", "LEADCORE_SMTP_FROM")


class SmtpConfigError(LeadcoreError):
    """The SMTP settings are present but cannot work; the message says which one."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str             # none | starttls | ssl
    from_address: str
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0     # seconds per SMTP command; a hung server must not stall the scheduler

    @property
    def domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1]

    def describe(self) -> str:
        who = f" as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}{who}), from {self.from_address}"


def smtp_config(environ: Mapping[str, str], secrets: Mapping[str, object] | None = None) -> SmtpConfig | None:
    """The SMTP settings, or None when no host is configured (sending is then off)."""
    def value(key: str) -> str:
        found = environ.get(key)
        if found is None and secrets is not None:
            found = secrets.get(key)
        return "" if found is None else str(found).strip()

    host = value("LEADCORE_SMTP_HOST")
    if not host:
        return None
    security = (value("LEADCORE_SMTP_SECURITY") or "starttls").lower()
    if security not in SECURITY_PORTS:
        raise SmtpConfigError("LEADCORE_SMTP_SECURITY must be none, starttls or ssl.")
    port_text = value("LEADCORE_SMTP_PORT")
    try:
        port = int(port_text) if port_text else SECURITY_PORTS[security]
    except ValueError:
        raise SmtpConfigError("LEADCORE_SMTP_PORT must be a number.") from None
    if not 0 < port < 65536:
        raise SmtpConfigError("LEADCORE_SMTP_PORT must be between 1 and 65535.")
    user = value("LEADCORE_SMTP_USER")
    sender = value("LEADCORE_SMTP_FROM") or (user if "@" in user else "")
    if "@" not in sender or any(ch in sender for ch in " \r\n<>\""):
        raise SmtpConfigError("LEADCORE_SMTP_FROM must be the sender's e-mail address.")
    return SmtpConfig(host, port, security, sender, user, value("LEADCORE_SMTP_PASSWORD"))


def read_secrets_file(path: Path = Path(".streamlit") / "secrets.toml") -> dict[str, object]:
    """The app's secrets file as Streamlit reads it (empty when there is none), for the CLI."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise SmtpConfigError(f"{path} is not valid TOML: {error}") from None


@dataclass(frozen=True)
class Part:
    """Bytes sent with a mail: the inline header graphic or an attached file."""
    name: str          # file name, or the Content-ID of an inline image
    mime_type: str
    data: bytes


def build_message(*, from_name: str, from_address: str, to_name: str, to_address: str, subject: str,
                  text: str, html: str | None, message_id: str, date: datetime, reply_to: str | None = None,
                  inline_image: Part | None = None, attachment: Part | None = None) -> EmailMessage:
    """multipart/alternative (text, then HTML with its inline image), plus an attached file.

    Raises ValueError for an address or header that cannot be written (a permanent failure)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(display_name=from_name, addr_spec=from_address)
    message["To"] = Address(display_name=to_name, addr_spec=to_address)
    if reply_to:
        message["Reply-To"] = Address(addr_spec=reply_to)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"   # out-of-office replies should not answer it
    # quoted-printable keeps every line 7-bit: no server needs 8BITMIME for umlauts.
    message.set_content(text, cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        if inline_image:
            html_part = message.get_payload()[-1]
            maintype, subtype = inline_image.mime_type.split("/")
            html_part.add_related(inline_image.data, maintype=maintype, subtype=subtype,
                                  cid=f"<{inline_image.name}>", disposition="inline")
    if attachment:
        maintype, subtype = attachment.mime_type.split("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name)
    return message


def is_permanent(error: Exception) -> bool:
    """True when the server refused this very message for good (5xx for its recipient or data):
    sending it again cannot help. Connection, login and 4xx problems are worth retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return isinstance(error, ValueError)


def describe_error(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for rcpt, (code, msg) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {message}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class SmtpSession:
    """One connection for a batch of messages; `with SmtpSession(config) as smtp: smtp.send(msg)`."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        c = self.config
        context = ssl.create_default_context()
        if c.security == "ssl":
            self._smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
        else:
            self._smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            if c.security == "starttls":
                self._smtp.starttls(context=context)
        try:
            if c.user:
                self._smtp.login(c.user, c.password)
        except BaseException:
            self.__exit__()
            raise
        return self

    def send(self, message: EmailMessage, recipient: str) -> None:
        assert self._smtp is not None
        self._smtp.send_message(message, from_addr=self.config.from_address, to_addrs=[recipient])

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

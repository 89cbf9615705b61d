"""Email delivery: build the message for a brief, and send it over SMTP by failure class.

The message is multipart: a plain-text and an HTML body (verdict, key figures,
what changed since the last build) and the PDF attached under its own
file name. Every header that comes from the config or a brief is checked for
CR/LF before anything is sent, so a brief cannot add headers or recipients.

Sending: 4xx replies, timeouts and dropped connections are retried with
exponential backoff and jitter, bounded by `max_attempts` and `max_retry_time`;
5xx replies are permanent. One message goes to one recipient, so a refused
recipient never holds up the others and each delivery has its own Message-ID.
"""

from __future__ import annotations

import hashlib
import html
import logging
import random
import re
import smtplib
import ssl
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr
from typing import TYPE_CHECKING

from reportgen.brief.data import format_with_unit
from reportgen.brief.helpers import fill_metrics
from reportgen.config import PASSWORD_ENV, ConfigError, MailConfig, SmtpConfig
from reportgen.errors import DeliveryError
from reportgen.render.changes import Changes

if TYPE_CHECKING:
    from reportgen.brief.validate import Checked

log = logging.getLogger(__name__)

SUBJECT_FIELDS = ("title", "verdict", "as_of", "brief", "company", "ticker")


# --- header guard -----------------------------------------------------------


def check_header(value: str, where: str) -> str:
    """Refuse CR/LF (and other control characters) in a header value: header injection."""
    if any(ch in value for ch in "\r\n") or any(ord(ch) < 32 and ch != "\t" for ch in value):
        raise DeliveryError(f"{where}: line break or control character in a mail header: {value!r}")
    return value


def check_address(value: str, where: str) -> str:
    """One mailbox (`Name <a@b>` or `a@b`), no line breaks, no second address hidden in it."""
    check_header(value, where)
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1] or " " in found[0][1]:
        raise DeliveryError(f"{where}: not one email address: {value!r}")
    return value


def address_of(mailbox: str) -> str:
    """The bare address of `Name <a@b>`, for the SMTP envelope."""
    return parseaddr(mailbox)[1]


def check_mail_config(mail: MailConfig, where: str) -> None:
    """Everything in [mail] that becomes a header, checked before any build or send."""
    check_address(mail.from_, f"{where}: mail.from")
    for i, to in enumerate(mail.to):
        check_address(to, f"{where}: mail.to[{i}]")
    if mail.failures_to:
        check_address(mail.failures_to, f"{where}: mail.failures_to")
    check_header(mail.subject, f"{where}: mail.subject")
    for _, name, spec, conversion in string.Formatter().parse(mail.subject):
        if name is not None and (name not in SUBJECT_FIELDS or spec or conversion):
            raise DeliveryError(
                f"{where}: mail.subject: unknown field {{{name}}} (known: {', '.join(SUBJECT_FIELDS)})"
            )


def smtp_password(smtp: SmtpConfig, environ: dict[str, str]) -> str | None:
    """The password, only ever from the environment; required when a username is set."""
    password = environ.get(PASSWORD_ENV) or None
    if smtp.username and password is None:
        raise ConfigError(f"smtp.username is set: put the password in {PASSWORD_ENV}")
    return password


# --- what the message says --------------------------------------------------


@dataclass(frozen=True)
class BriefSummary:
    """What the email body says about a brief: taken from its spec, not from the PDF."""

    brief_id: str
    title: str
    company: str
    ticker: str | None
    as_of: date
    verdict: str
    risk: str
    reward: str
    summary: str
    key_figures: list[tuple[str, str]]
    recipients: list[str]


def summarize(checked: Checked) -> BriefSummary:
    """The facts an email shows, from the validated brief (pure: reads no file)."""
    spec = checked.spec
    brief = spec.brief
    figures = {m.id: format_with_unit(m.value, m.unit, m.high) for m in brief.metrics}
    key = [
        (m.label, figures[m.id] + (f" ({m.period})" if m.period else ""))
        for m in brief.metrics
        if m.key
    ]
    summary = fill_metrics(spec.docs["verdict.summary"], figures)
    return BriefSummary(
        brief_id=spec.brief_id,
        title=brief.title,
        company=brief.subject.name,
        ticker=brief.subject.ticker,
        as_of=brief.as_of,
        verdict=brief.verdict.label,
        risk=brief.verdict.risk,
        reward=brief.verdict.reward,
        summary=_paragraphs(summary),
        key_figures=key,
        recipients=list(brief.recipients),
    )


def _paragraphs(markdown: str) -> str:
    """Unwrap the lines of each paragraph (YAML folds them where the analyst typed them)."""
    paragraphs = re.split(r"\n\s*\n", markdown.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _markdown_html(text: str) -> str:
    """The summary as HTML for the mail body; raw HTML in it stays text."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


def change_lines(changes: Changes) -> list[str]:
    """What changed since the last build, one line each, for the mail bodies."""
    lines = []
    if changes.verdict:
        lines.append(f"Verdict: {changes.verdict.get('old')} \u2192 {changes.verdict.get('new')}")
    for metric in changes.metrics:
        if metric.old is None:
            lines.append(f"{metric.label}: {metric.new} (new)")
        elif metric.new is None:
            lines.append(f"{metric.label}: {metric.old} (dropped)")
        else:
            lines.append(f"{metric.label}: {metric.old} \u2192 {metric.new}")
    lines += [f"New risk: {title}" for title in changes.risks_added]
    lines += [f"Risk dropped: {title}" for title in changes.risks_removed]
    return lines


def subject_line(template: str, summary: BriefSummary) -> str:
    """The [mail].subject template filled in; CR/LF from the brief refused."""
    values = {
        "title": summary.title,
        "verdict": summary.verdict,
        "as_of": summary.as_of.isoformat(),
        "brief": summary.brief_id,
        "company": summary.company,
        "ticker": summary.ticker or "",
    }
    return check_header(template.format_map(values), f"{summary.brief_id}: subject")


def message_id_for(brief_id: str, pdf_sha256: str, recipient: str, sender: str) -> str:
    """Stable per (brief, PDF, recipient): a resend after a lost 250 carries the same id."""
    digest = hashlib.sha256(f"{brief_id}\0{pdf_sha256}\0{recipient}".encode()).hexdigest()[:32]
    domain = address_of(sender).rpartition("@")[2] or "reportgen.invalid"
    return f"<reportgen.{digest}@{domain}>"


def _text_body(s: BriefSummary, changes: Changes | None, attachment: str) -> str:
    who = f"{s.company} ({s.ticker})" if s.ticker else s.company
    parts = [
        s.title,
        f"{who} \u00b7 data as of {s.as_of.isoformat()}",
        "",
        f"Verdict: {s.verdict} (risk {s.risk}, reward {s.reward})",
    ]
    if s.summary:
        parts += [s.summary]
    if s.key_figures:
        parts += ["", "Key figures"] + [f"- {label}: {value}" for label, value in s.key_figures]
    if changes and changes.any:
        parts += ["", f"What changed since {changes.since or 'the last build'}"]
        parts += [f"- {line}" for line in change_lines(changes)]
    parts += ["", f"The full brief is attached: {attachment}"]
    return "\n".join(parts) + "\n"


def _html_body(s: BriefSummary, changes: Changes | None, attachment: str) -> str:
    e = html.escape
    who = f"{s.company} ({s.ticker})" if s.ticker else s.company
    out = [
        f"<h1>{e(s.title)}</h1>",
        f"<p>{e(who)} &middot; data as of {s.as_of.isoformat()}</p>",
        f"<p><strong>Verdict: {e(s.verdict)}</strong> (risk {e(s.risk)}, reward {e(s.reward)})</p>",
    ]
    if s.summary:
        out.append(_markdown_html(s.summary))
    if s.key_figures:
        rows = "".join(
            f'<tr><th align="left">{e(k)}</th><td>{e(v)}</td></tr>' for k, v in s.key_figures
        )
        out.append(f"<h2>Key figures</h2><table>{rows}</table>")
    if changes and changes.any:
        items = "".join(f"<li>{e(line)}</li>" for line in change_lines(changes))
        out.append(
            f"<h2>What changed since {e(changes.since or 'the last build')}</h2><ul>{items}</ul>"
        )
    out.append(f"<p>The full brief is attached: {e(attachment)}</p>")
    return "<!doctype html><html><body>" + "".join(out) + "</body></html>\n"


def brief_message(
    summary: BriefSummary,
    pdf_name: str,
    pdf: bytes,
    mail: MailConfig,
    recipient: str,
    message_id: str,
    changes: Changes | None,
    now: datetime,
) -> EmailMessage:
    """The email for one brief and one recipient, PDF attached."""
    msg = _headers(mail.from_, recipient, subject_line(mail.subject, summary), message_id, now)
    msg["X-Reportgen-Brief"] = check_header(summary.brief_id, "brief id")
    msg.set_content(_text_body(summary, changes, pdf_name))
    msg.add_alternative(_html_body(summary, changes, pdf_name), subtype="html")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return msg


def notice_message(
    mail: MailConfig, subject: str, lines: list[str], message_id: str, now: datetime
) -> EmailMessage:
    """A plain-text failure notice for the ops address."""
    msg = _headers(mail.from_, mail.failures_to, subject, message_id, now)
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _headers(
    sender: str, recipient: str, subject: str, message_id: str, now: datetime
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = check_address(sender, "mail.from")
    msg["To"] = check_address(recipient, "recipient")
    msg["Subject"] = check_header(subject, "subject")
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    return msg


# --- sending ------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """How one message to one recipient ended."""

    recipient: str
    sent: bool
    code: int | None
    detail: str
    attempts: int


@dataclass(frozen=True)
class _Failure:
    transient: bool
    code: int | None
    detail: str


def classify(exc: Exception) -> _Failure:
    """4xx, timeouts and dropped connections are transient; 5xx and TLS/setup errors permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        return _Failure(
            code is not None and 400 <= code < 500,
            code,
            f"recipient refused: {code} {_text(reply)}",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return _Failure(400 <= code < 500, code, f"{code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _Failure(True, None, f"connection dropped: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure(False, None, f"TLS certificate refused: {exc.verify_message}")
    if isinstance(exc, TimeoutError):
        return _Failure(True, None, "timed out waiting for the server")
    if isinstance(exc, OSError):
        return _Failure(True, None, f"cannot connect: {exc.strerror or exc}")
    return _Failure(False, None, f"{type(exc).__name__}: {exc}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class Mailer:
    """One SMTP connection reused for a run's messages, reopened after a transient failure.

    When the server cannot be reached at all after a message's retries, later
    messages of the run fail at once instead of each waiting out the retries.
    """

    def __init__(
        self,
        smtp: SmtpConfig,
        password: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.smtp = smtp
        self._password = password
        self._sleep = sleep
        self._clock = clock
        self._conn: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None

    def send(self, message: EmailMessage, sender: str, recipient: str) -> SendOutcome:
        """Send until the server's 250, a permanent refusal, or the retry budget is spent."""
        data = message.as_bytes(policy=SMTP_POLICY)
        deadline = self._clock() + self.smtp.max_retry_time
        attempt = 0
        while True:
            if self._unreachable:
                return SendOutcome(
                    recipient, False, None, f"not attempted: {self._unreachable}", attempt
                )
            attempt += 1
            try:
                self._connection().sendmail(address_of(sender), [address_of(recipient)], data)
                return SendOutcome(recipient, True, 250, "accepted", attempt)
            except (smtplib.SMTPException, OSError) as exc:
                failure = classify(exc)
            log.info("%s: attempt %d: %s", recipient, attempt, failure.detail)
            if failure.transient:
                self._drop()
            delay = self.smtp.backoff * 2 ** (attempt - 1) * (0.5 + random.random())
            if (
                not failure.transient
                or attempt >= self.smtp.max_attempts
                or self._clock() + delay > deadline
            ):
                return self._give_up(recipient, failure, attempt)
            self._sleep(delay)

    def _give_up(self, recipient: str, failure: _Failure, attempts: int) -> SendOutcome:
        detail = failure.detail
        if failure.transient:
            detail += f" (gave up after {attempts} attempt{'s' * (attempts > 1)})"
            if failure.code is None:
                self._unreachable = (
                    f"{self.smtp.host}:{self.smtp.port} unreachable ({failure.detail})"
                )
        return SendOutcome(recipient, False, failure.code, detail, attempts)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if smtp.security == "tls":
            conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            conn = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        try:
            conn.ehlo()
            if smtp.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if smtp.username:
                conn.login(smtp.username, self._password or "")
        except BaseException:
            conn.close()
            raise
        return conn

"""The email for a brief: headers checked against injection, bodies from Jinja templates.

The bodies are `templates/mail/brief.txt.j2` and `brief.html.j2`, found on the
brief's own template search path (a project's `templates/mail/` first, then
reportgen's; `builtin!mail/...` extends the shipped one). The HTML body is
autoescaped, the text body is not. Every header that comes from the config or
a brief is checked for CR/LF before anything is sent, so a brief cannot add
headers or recipients.
"""

from __future__ import annotations

import hashlib
import string
import traceback
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

from jinja2 import Environment, TemplateError, TemplateSyntaxError, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.brief.summary import BriefSummary
from reportgen.config import MailConfig
from reportgen.errors import DeliveryError
from reportgen.render.changes import Changes
from reportgen.render.environment import Renderer

SUBJECT_FIELDS = ("title", "verdict", "as_of", "brief", "company", "ticker")
SUBJECT_MAX = 78  # characters: what a phone's inbox shows without cutting (RFC 5322's line advice)
ELLIPSIS = "\u2026"
TEXT_TEMPLATE = "mail/brief.txt.j2"
HTML_TEMPLATE = "mail/brief.html.j2"


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


# --- subject, names, ids ------------------------------------------------------


def subject_line(template: str, summary: BriefSummary) -> str:
    """The [mail].subject template filled in, naming the ticker, at most SUBJECT_MAX characters.

    A template without {ticker} gets the ticker as a `[BABA] ` prefix. When too long,
    the title is shortened first, then the verdict; the ticker never is.
    """
    if summary.ticker and "{ticker}" not in template:
        template = "[{ticker}] " + template
    values = {
        "title": summary.title,
        "verdict": summary.verdict,
        "as_of": summary.as_of.isoformat(),
        "brief": summary.brief_id,
        "company": summary.company,
        "ticker": summary.ticker or "",
    }
    for key in ("title", "verdict"):
        values[key] = _fit(template, values, key)
    return check_header(template.format_map(values), f"{summary.brief_id}: subject")


def _fit(template: str, values: dict[str, str], key: str) -> str:
    """values[key] cut (on a word where it can) so the filled template fits SUBJECT_MAX."""
    text = values[key]
    over = len(template.format_map(values)) - SUBJECT_MAX
    if over <= 0:
        return text
    keep = max(len(text) - over - len(ELLIPSIS), 0)
    cut = text[:keep].rstrip(" ,:;-\u2013\u2014")
    word = cut.rsplit(" ", 1)[0].rstrip(" ,:;-\u2013\u2014") if " " in cut else cut
    cut = word if len(word) >= keep * 2 // 3 else cut
    return cut + ELLIPSIS if cut else ""


def attachment_name(summary: BriefSummary) -> str:
    """`<id>-<as_of>.pdf`: editions don't overwrite each other in a downloads folder."""
    return f"{summary.brief_id}-{summary.as_of.isoformat()}.pdf"


def message_id_for(brief_id: str, content: str, recipient: str, sender: str) -> str:
    """Stable per (brief, content, recipient): a resend after a lost 250 carries the same id."""
    digest = hashlib.sha256(f"{brief_id}\0{content}\0{recipient}".encode()).hexdigest()[:32]
    domain = address_of(sender).rpartition("@")[2] or "reportgen.invalid"
    return f"<reportgen.{digest}@{domain}>"


def change_lines(changes: Changes | None) -> list[str]:
    """What changed, one line each, as both bodies list it (verdict, then the call)."""
    if changes is None:
        return []
    lines = []
    if changes.verdict:
        lines.append(f"Verdict: {changes.verdict['old']} \u2192 {changes.verdict['new']}")
    for m in changes.moved:
        if m.old is None:
            lines.append(f"{m.label}: {m.new} (new)")
        elif m.new is None:
            lines.append(f"{m.label}: {m.old} (dropped)")
        else:
            lines.append(f"{m.label}: {m.old} \u2192 {m.new}")
    lines += [f"New risk: {title}" for title in changes.risks_added]
    lines += [f"Risk dropped: {title}" for title in changes.risks_removed]
    return lines


# --- bodies -------------------------------------------------------------------


class MailTemplates:
    """The mail templates on the renderer's search path: HTML autoescaped, text not."""

    def __init__(self, renderer: Renderer):
        self.theme = renderer.theme
        self.env: Environment = renderer.env.overlay(
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False)
        )

    def bodies(self, summary: BriefSummary, changes: Changes | None) -> tuple[str, str]:
        """(text, HTML) of the message about one brief."""
        context = {
            "s": summary,
            "who": f"{summary.company} ({summary.ticker})" if summary.ticker else summary.company,
            "changes": change_lines(changes),
            "since": changes.since_words if changes else "the last edition",
            "attachment": attachment_name(summary),
            "theme": self.theme,
            "markdown": _markdown_html,  # a context function: the overlay shares the brief's filters
        }
        return self._render(TEXT_TEMPLATE, context), self._render(HTML_TEMPLATE, context)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        """One body; a broken project template is this brief's DeliveryError, not a traceback."""
        try:
            return self.env.get_template(name).render(context)
        except TemplateError as exc:
            raise DeliveryError(
                f"{_place(exc, name)}: mail template: {exc.message or exc}"
            ) from exc


def _place(exc: TemplateError, name: str) -> str:
    """file:line of a template error: syntax errors carry it, render errors in the traceback
    (Jinja rewrites it so template frames name the template file and line)."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or name}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else name


def _markdown_html(text: str) -> Markup:
    """The verdict summary as HTML: raw HTML stays text, no images (no remote loads in a mail)."""
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    return Markup(md.render(text))


@dataclass(frozen=True)
class Envelope:
    """Who sends a message to whom, when, under which Message-ID."""

    sender: str
    recipient: str
    message_id: str
    now: datetime


def brief_message(
    summary: BriefSummary,
    changes: Changes | None,
    pdf: bytes,
    mail: MailConfig,
    envelope: Envelope,
    templates: MailTemplates,
) -> EmailMessage:
    """The email for one brief and one recipient, PDF attached as `<id>-<as_of>.pdf`."""
    subject = subject_line(mail.subject, summary)
    msg = _headers(envelope, subject)
    msg["X-Reportgen-Brief"] = check_header(summary.brief_id, "brief id")
    text, html = templates.bodies(summary, changes)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=attachment_name(summary)
    )
    return msg


def notice_message(envelope: Envelope, subject: str, lines: list[str]) -> EmailMessage:
    """A plain-text failure notice for the ops address."""
    msg = _headers(envelope, subject)
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _headers(envelope: Envelope, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = check_address(envelope.sender, "mail.from")
    msg["To"] = check_address(envelope.recipient, "recipient")
    msg["Subject"] = check_header(subject, "subject")
    msg["Date"] = format_datetime(envelope.now)
    msg["Message-ID"] = envelope.message_id
    msg["Auto-Submitted"] = "auto-generated"
    return msg

"""The email for a brief: headers from checked, decoded text; bodies from Jinja templates.

The bodies are `templates/mail/brief.txt.j2` and `brief.html.j2`, found on the brief's own
template search path (a project's `templates/mail/` first, then reportgen's;
`builtin!mail/...` extends the shipped one). The HTML body is autoescaped, the text body is
not. Every header value was checked where it was written (reportgen.toml, brief.yaml:
reportgen.mailtext); the filled subject is checked again as the library decodes it, so nothing
can add a header or a recipient.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from jinja2 import Environment, TemplateError, TemplateSyntaxError, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.brief.summary import BriefSummary
from reportgen.config import Config, ConfigError, MailConfig
from reportgen.errors import DeliveryError, one_line
from reportgen.mailtext import Mailbox, header_problem, parse_mailbox
from reportgen.publish.smtp import Mailer, SendOutcome
from reportgen.render.changes import Changes
from reportgen.render.environment import Renderer

SUBJECT = "{title}: {verdict} (data as of {as_of})"  # a brief without a rated target
RATED_SUBJECT = "[{ticker}] {rating}, target {target} ({upside}): {title}"  # config.md v1.2
SUBJECT_MAX = 78  # characters: what a phone's inbox shows without cutting (RFC 5322's line advice)
ELLIPSIS = "\u2026"
TEXT_TEMPLATE = "mail/brief.txt.j2"
HTML_TEMPLATE = "mail/brief.html.j2"


def require_mail(config: Config) -> MailConfig:
    """[mail] with a sender is needed to send (its values were checked when it was read)."""
    where = str(config.path or "reportgen.toml")
    if config.mail is None:
        raise ConfigError(f"{where}: [mail] is required to send (from, to, subject)")
    if not config.mail.from_:
        raise ConfigError(f"{where}: mail.from is required to send")
    return config.mail


def checked(value: str, what: str) -> str:
    """A header value as the library will read it, refused when it would break the header."""
    problem = header_problem(value)
    if problem:
        raise DeliveryError(f"{what}: {problem}")
    return value


def subject_template(mail: MailConfig, summary: BriefSummary) -> str:
    """[mail].subject, or the default: the call first when the brief has a rated target."""
    if mail.subject is not None:
        return mail.subject
    return RATED_SUBJECT if summary.ticker and summary.rating and summary.target else SUBJECT


def subject_line(template: str, summary: BriefSummary) -> str:
    """The subject template filled in, naming the ticker (a `[BABA] ` prefix when the template
    does not), at most SUBJECT_MAX characters: the title is cut first, then the verdict; the
    call (ticker, rating, target, upside) never is."""
    if summary.ticker and "{ticker}" not in template:
        template = "[{ticker}] " + template
    values = {
        "title": summary.title,
        "verdict": summary.verdict,
        "as_of": summary.as_of.isoformat(),
        "brief": summary.brief_id,
        "company": summary.company,
        "ticker": summary.ticker or "",
        "rating": summary.rating or "unrated",
        "target": summary.target or "n.a.",
        "upside": summary.upside or "n.a.",
    }
    for key in ("title", "verdict"):
        values[key] = _fit(template, values, key)
    return checked(template.format_map(values), f"{summary.brief_id}: subject")


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


def attachment_name(template: str, summary: BriefSummary) -> str:
    """`BABA-2026-11-21.pdf` ([mail].attachment; the brief id stands in for a missing ticker),
    letters, digits, '.', '_' and '-' only: a name every mail client and file system keeps."""
    values = {
        "ticker": summary.ticker or summary.brief_id,
        "as_of": summary.as_of.isoformat(),
        "brief": summary.brief_id,
    }
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", template.format_map(values)).strip(".-")
    return name if name.lower().endswith(".pdf") else f"{name or summary.brief_id}.pdf"


def message_id_for(brief_id: str, edition: str, mailbox: str, sender: Mailbox) -> str:
    """Stable per (brief, edition, mailbox): a resend with --force carries the same id."""
    digest = hashlib.sha256(f"{brief_id}\0{edition}\0{mailbox}".encode()).hexdigest()[:32]
    return f"<reportgen.{digest}@{sender.header.domain or 'reportgen.invalid'}>"


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


class MailTemplates:
    """The mail templates on the renderer's search path: HTML autoescaped, text not."""

    def __init__(self, renderer: Renderer):
        self.theme = renderer.theme
        self.env: Environment = renderer.env.overlay(
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False)
        )

    def bodies(
        self, summary: BriefSummary, changes: Changes | None, attachment: str
    ) -> tuple[str, str]:
        """(text, HTML) of the message about one brief; `changes`: since the reader's last
        edition (None: the reader's first)."""
        context = {
            "s": summary,
            "who": f"{summary.company} ({summary.ticker})" if summary.ticker else summary.company,
            "changes": change_lines(changes),
            "since": changes.since_words if changes else "the last edition",
            "attachment": attachment,
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

    sender: Mailbox
    recipient: Mailbox
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
    """The email for one brief and one mailbox, the PDF attached as `[mail].attachment`."""
    msg = _headers(envelope, subject_line(subject_template(mail, summary), summary))
    msg["X-Reportgen-Brief"] = checked(summary.brief_id, "brief id")
    name = attachment_name(mail.attachment, summary)
    text, html = templates.bodies(summary, changes, name)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
    return msg


def notify(
    mailer: Mailer,
    mail: MailConfig,
    now: datetime,
    key: tuple[str, str],
    subject: str,
    lines: list[str],
) -> tuple[str, SendOutcome]:
    """A plain-text notice to [mail].failures_to, sent; `key` (what and when) makes its
    Message-ID. The mailer's failures are its outcome, not raised."""
    sender, to = parse_mailbox(mail.from_), parse_mailbox(mail.failures_to)
    envelope = Envelope(sender, to, message_id_for(*key, to.address, sender), now)
    msg = _headers(envelope, " ".join(subject.split())[:900])
    msg.set_content("\n".join(lines) + "\n")
    return to.address, mailer.send(msg, sender, to)


def _headers(envelope: Envelope, subject: str) -> EmailMessage:
    """Built with EmailMessage (the caller writes it with the SMTP policy): addresses as
    Address objects, the subject checked as the library decodes it."""
    msg = EmailMessage()
    msg["From"] = envelope.sender.header
    msg["To"] = envelope.recipient.header
    msg["Subject"] = checked(subject, "subject")
    msg["Date"] = format_datetime(envelope.now)
    msg["Message-ID"] = envelope.message_id
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def failure_notice(
    command: str, run_id: str, failed: list[tuple[str, list[str]]]
) -> tuple[str, list[str]]:
    """The subject and lines of the notice to [mail].failures_to: each failed brief and why."""
    names = ", ".join(one_line(brief) for brief, _ in failed)
    subject = f"[reportgen] {command} run {run_id}: {len(failed)} failed"
    subject += "" if header_problem(names) else f": {names}"  # a folder's name may be hostile
    lines = [f"reportgen {command} run {run_id} could not deliver:", ""]
    for brief, details in failed:
        lines += [f"{one_line(brief)}:", *(f"  {one_line(d)}" for d in details)]
    last = "A failed brief was not sent (one in doubt may have been); no previous PDF was re-sent."
    return subject, [*lines, "", last]

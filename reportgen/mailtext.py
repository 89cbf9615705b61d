"""Text bound for a mail header, checked as the mail library will read it, and mailboxes.

The email library decodes encoded words (`=?utf-8?q?...?=`) in every header it
is given, so a value is checked twice: as written and as decoded. A reader is
a mailbox, not a string: `PM <pm@EXAMPLE.COM>` and `pm@example.com` are one
(domain case-folded and IDNA-encoded; the local part kept as written). Used by
the config, the brief checks and the message builder alike (stdlib only).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import unquote

# C0 and C1 controls (tab included), the Unicode line and paragraph separators, and the
# invisible and bidi characters that make a name or subject read otherwise than written.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def decoded(text: str) -> str:
    """The value as the mail library reads it into a header (encoded words decoded)."""
    try:
        return str(SMTP.header_factory("X-Check", text))
    except Exception:  # the library cannot read it: the plain text is all there is
        return text


def header_problem(text: str) -> str | None:
    """Why `text` cannot go into a mail header, or None: a control character (a line break
    ends the header and starts another), written plainly or inside an encoded word."""
    found = _CONTROL.search(text)
    if found:
        return (
            f"U+{ord(found[0]):04X} (a control or invisible character) cannot go into a mail header"
        )
    found = _CONTROL.search(decoded(text))
    if found:
        return (
            f"an encoded word (=?...?=) here decodes to U+{ord(found[0]):04X} (a control or"
            " invisible character), which would break the mail header"
        )
    return None


ADDRESS_MAX = 254  # RFC 5321's longest path, less its angle brackets
NAME_MAX = 200  # a display name without spaces is one unfoldable word: a header line of 998


@dataclass(frozen=True)
class Mailbox:
    """One reader. `address` is its identity and its envelope address: `local@domain`, the
    local part quoted where it must be (`"a(b)"@x` is not `a@x`), the domain case-folded
    and IDNA-encoded; `name` is the display name it was first written with."""

    address: str
    name: str = ""

    @property
    def header(self) -> Address:
        local, _, domain = self.address.rpartition("@")
        return Address(self.name, unquote(local), domain)

    @property
    def ascii(self) -> bool:
        """False for a non-ASCII local part: it needs a server that offers SMTPUTF8."""
        return self.address.isascii()

    def __str__(self) -> str:
        return str(self.header)


def parse_mailbox(text: str) -> Mailbox:
    """`a@b`, `<a@b>` or `Name <a@b>` as a Mailbox; ValueError (one line) for anything else."""
    problem = header_problem(text)
    if problem:
        raise ValueError(problem)
    try:
        header = SMTP.header_factory("To", text)
    except Exception as exc:  # the parser's own errors (IndexError on "a@" ...)
        raise ValueError(f"not an email address: {text!r} ({exc})") from None
    found = header.addresses
    unread = [d for d in header.defects if not isinstance(d, NonASCIILocalPartDefect)]
    if unread or len(found) != 1 or not found[0].username or not found[0].domain:
        raise ValueError(f"not one email address: {text!r}")  # `pm@exa mple.com` is not pm@exa
    one = found[0]
    for part in (one.display_name, one.username, one.domain):
        problem = header_problem(part)
        if problem:
            raise ValueError(problem)
    spec = Address("", one.username, _domain(one.domain, text)).addr_spec
    if len(spec) > ADDRESS_MAX or len(one.display_name) > NAME_MAX:
        raise ValueError(
            f"an address is at most {ADDRESS_MAX} characters and its name {NAME_MAX}"
            f" (a longer name or address cannot be folded into a mail header): {text[:60]!r}..."
        )
    return Mailbox(spec, one.display_name)


def _domain(domain: str, text: str) -> str:
    """Case-folded and IDNA-encoded (`exämple.com` -> `xn--exmple-cua.com`), without the
    root's trailing dot."""
    try:
        return domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"not a valid domain in {text!r}: {exc}") from None


def mailboxes(texts: list[str]) -> list[Mailbox]:
    """Each reader once, in the order first written (ValueError at the first bad one)."""
    found: dict[str, Mailbox] = {}
    for text in texts:
        box = parse_mailbox(text)
        found.setdefault(box.address, box)
    return list(found.values())


SUBJECT_FIELDS = (
    *("title", "verdict", "as_of", "brief", "company"),
    *("ticker", "rating", "target", "upside"),
)
ATTACHMENT_FIELDS = ("ticker", "as_of", "brief")


def template_problem(template: str, fields: tuple[str, ...]) -> str | None:
    """Why a [mail] template cannot be filled for every brief: an unknown field, a format
    spec or conversion (`{title:>100000000}`), a stray brace or a control character."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"{exc} (write a literal brace as {{{{ or }}}})"
    for _, name, spec, conversion in parts:
        if name is not None and (name not in fields or spec or conversion):
            conversion = f"!{conversion}" if conversion else ""
            written = f"{{{name}{conversion}{':' + spec if spec else ''}}}"
            return f"cannot fill {written[:40]}: the fields are {{{'}, {'.join(fields)}}}"
    return header_problem(template)

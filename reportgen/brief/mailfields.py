"""The brief's values that reach a mail header or an envelope, checked at their line.

Title, company, ticker, verdict label, rating and currency go into the subject;
`recipients` become mailboxes. `check` and `build` refuse what `send` would
(reportgen.mailtext: a control character written plainly or in an encoded word,
an address that is not one mailbox), so nothing is found first by the nightly run.
"""

from __future__ import annotations

from reportgen.brief.spec import Loc, Spec
from reportgen.errors import Problem
from reportgen.mailtext import header_problem, parse_mailbox


def header_problems(spec: Spec) -> list[Problem]:
    """One error per header-bound value that cannot go into a mail header."""
    brief = spec.brief
    texts: list[tuple[Loc, str | None]] = [
        (("title",), brief.title),
        (("subject", "name"), brief.subject.name),
        (("subject", "ticker"), brief.subject.ticker),
        (("verdict", "label"), brief.verdict.label),
    ]
    if brief.market is not None:
        texts += [(("market", "rating"), brief.market.rating)]
        texts += [(("market", "currency"), brief.market.currency)]
    found = [(loc, header_problem(text)) for loc, text in texts if text]
    for i, address in enumerate(brief.recipients):
        try:
            parse_mailbox(address)
        except ValueError as exc:
            found.append((("recipients", i), str(exc)))
    return [spec.problem(loc, why) for loc, why in found if why]

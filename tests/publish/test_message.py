"""The email a portfolio manager gets, read back from the .eml `send --dry-run` writes.

Subject (the call, ticker, verdict, at most 78 characters), the call and "What
changed since the reader's last edition" first, key figures with their sources,
the firm and disclaimer at the foot, the attachment named `{ticker}-{as_of}.pdf`,
bodies from templates a project can override.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import MINIMAL, build_brief, write_brief
from smtp_server import free_port, write_config

from reportgen.brief.spec import load_spec
from reportgen.brief.summary import BriefSummary, summarize
from reportgen.brief.validate import validate
from reportgen.cli import main
from reportgen.config import MailConfig, load_config
from reportgen.publish.message import (
    RATED_SUBJECT,
    SUBJECT,
    SUBJECT_MAX,
    MailTemplates,
    attachment_name,
    failure_notice,
    subject_line,
    subject_template,
)
from reportgen.publish.nightly import send_briefs
from reportgen.render.environment import Renderer

BEFORE = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # the previous build, for "what changed"


def rebuild_with_changes(project: Path, port: int) -> None:
    """Send pm an older acme first, then build today's: pm's mail then says what changed
    since the edition pm got (revenue 11 -> 12.5, verdict Hold -> High-Risk, High-Reward,
    risk Pricing -> Competition)."""
    older = copy.deepcopy(MINIMAL)
    older["verdict"]["label"] = "Hold"
    older["risks"][0]["title"] = "Pricing"
    older["metrics"][0]["value"] = 11
    brief = write_brief(project / "briefs" / "acme", older)
    assert build_brief(brief, project / "out", now=BEFORE).ok
    config = load_config(write_config(project, port, to=["pm@example.com"]))
    assert send_briefs(config, [brief]).exit_code == 0
    write_brief(brief, MINIMAL)
    assert build_brief(brief, project / "out").ok


def sent_words() -> str:
    today = datetime.now(UTC)
    return f"What changed since the edition sent {today.day} {today:%B %Y}"


def dry_run(project: Path, extra_config: str = "", **settings: Any) -> EmailMessage:
    """`send --dry-run` for acme to pm@example.com; the .eml read back."""
    path = write_config(project, free_port(), to=["pm@example.com"], **settings)
    path.write_text(path.read_text() + extra_config)
    report = send_briefs(load_config(path), [project / "briefs" / "acme"], dry_run=project / "eml")
    assert report.exit_code == 0, report.outcomes
    data = (project / "eml" / "acme--pm@example.com.eml").read_bytes()
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")  # as sent: CRLF lines


def test_message_has_both_bodies_headers_and_the_exact_pdf(
    project: Path, server: tuple[Any, int]
) -> None:
    rebuild_with_changes(project, server[1])
    msg = dry_run(project)
    assert msg["From"] == "Research Desk <desk@example.com>"
    assert msg["To"] == "pm@example.com"
    assert msg["Subject"] == "[ACME] Acme's Big Bet: High-Risk, High-Reward (data as of 2026-11-21)"
    assert msg["Message-ID"].startswith("<reportgen.") and msg["Message-ID"].endswith(
        "@example.com>"
    )
    assert msg["Date"] and msg["X-Reportgen-Brief"] == "acme"
    text, html = bodies(msg)
    for body in (text, html):
        assert "High-Risk, High-Reward" in body
        assert "USD 12.5bn" in body  # the key figure, formatted as in the PDF
        assert "Revenue reached USD 12.5bn." in body  # helpers resolved, no {{ }} left
        assert sent_words() in body
        assert "New risk: Competition" in body
        assert "Revenue: USD 11bn \u2192 USD 12.5bn" in body
    assert "{{" not in text + html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "ACME-2026-11-21.pdf"  # {ticker}-{as_of}.pdf
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == (project / "out" / "acme" / "acme.pdf").read_bytes()


def test_what_changed_comes_first_then_key_figures_with_their_sources(
    project: Path, server: tuple[Any, int]
) -> None:
    rebuild_with_changes(project, server[1])
    text, html = bodies(dry_run(project))
    for body in (text, html):
        changed, figures = body.index("What changed"), body.index("Key figures")
        assert changed < figures < body.index("Revenue reached")
        assert "Alpha Report" in body[figures:]  # the source's name beside its figure
    assert "- Revenue: USD 12.5bn (FY2025), source: Alpha Report" in text


def test_a_readers_first_edition_has_no_changes_section(project: Path) -> None:
    rebuild_with_changes_unsent = build_brief(project / "briefs" / "acme", project / "out")
    assert rebuild_with_changes_unsent.ok
    text, html = bodies(dry_run(project))
    assert "What changed" not in text and "What changed" not in html
    assert text.index("Verdict:") < text.index("Key figures")


def test_firm_name_and_disclaimer_at_the_foot(project: Path) -> None:
    theme = (
        '\n[theme]\nfirm = "Northwind Research"\ndisclaimer = "For professional investors only."\n'
    )
    text, html = bodies(dry_run(project, theme))
    for body in (text, html):
        assert "Northwind Research" in body and "For professional investors only." in body
        assert body.index("Northwind Research") > body.index("Key figures")
    default_text, _ = bodies(dry_run(project))
    assert "Not investment advice." in default_text.split("--")[-1]


def test_brief_text_is_data_in_the_html_body(project: Path) -> None:
    spec = {
        **MINIMAL,
        "title": "Acme <b>Bold</b> & Co",
        "verdict": {
            **MINIMAL["verdict"],
            "summary": "<img src=x onerror=alert(document.cookie)> **Bold** call ![p](https://t.example/p.png).",
        },
    }
    write_brief(project / "briefs" / "acme", spec)
    review = ["review", str(project / "briefs" / "acme"), "--accept", "image:verdict.summary:https"]
    assert (
        CliRunner().invoke(main, [*review, "--by", "QA", "--reason", "Not shown."]).exit_code == 0
    )
    assert build_brief(project / "briefs" / "acme", project / "out").ok  # send mails the last build
    text, html = bodies(dry_run(project))
    assert "&lt;img src=x onerror=alert(document.cookie)&gt;" in html
    assert "<img" not in html  # not the raw tag, nor the Markdown image: no remote loads
    assert "<strong>Bold</strong> call" in html
    assert "Acme &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "Acme <b>Bold</b> & Co" in text  # text/plain is not escaped


def test_a_project_overrides_the_mail_templates(project: Path) -> None:
    mail = project / "templates" / "mail"
    mail.mkdir(parents=True)
    (mail / "brief.txt.j2").write_text(
        'Desk note for {{ s.ticker }}\n{% include "builtin!mail/brief.txt.j2" %}', encoding="utf-8"
    )
    text, html = bodies(dry_run(project))
    assert text.startswith("Desk note for ACME\nVerdict: High-Risk")
    assert "Desk note" not in html  # the HTML body is still the built-in one


def summary_of(**change: Any) -> BriefSummary:
    return BriefSummary(
        brief_id="acme",
        title=change.get("title", "Acme's Big Bet"),
        company="Acme Corp",
        ticker=change.get("ticker", "ACME"),
        as_of=date(2026, 11, 21),
        verdict=change.get("verdict", "High-Risk, High-Reward"),
        risk="high",
        reward="high",
        summary="",
        key_figures=[],
        recipients=[],
        rating=change.get("rating"),
        target=change.get("target"),
        upside=change.get("upside"),
    )


TEMPLATE = "{title}: {verdict} (data as of {as_of})"  # config.md's own example


def test_a_long_title_is_shortened_never_the_ticker_or_the_verdict() -> None:
    title = "Alibaba's AI Bet: capex, cloud share, chips and the long road to profit in 2027"
    subject = subject_line(TEMPLATE, summary_of(title=title, ticker="BABA"))
    assert len(subject) <= SUBJECT_MAX
    assert subject.startswith("[BABA] Alibaba's AI Bet")
    assert subject.endswith("\u2026: High-Risk, High-Reward (data as of 2026-11-21)")
    short = subject_line(TEMPLATE, summary_of(ticker="BABA"))
    assert short == "[BABA] Acme's Big Bet: High-Risk, High-Reward (data as of 2026-11-21)"


def test_a_template_naming_the_ticker_gets_no_prefix_and_the_limit_still_holds() -> None:
    template = "{ticker} | {title} | {verdict}"
    subject = subject_line(template, summary_of(title="T" * 200, verdict="Very-High-Risk " * 8))
    assert subject.startswith("ACME | ") and len(subject) <= SUBJECT_MAX
    assert subject_line(template, summary_of()) == "ACME | Acme's Big Bet | High-Risk, High-Reward"
    assert subject_line(TEMPLATE, summary_of(ticker=None)).startswith("Acme's Big Bet: ")


def test_a_rated_brief_leads_its_subject_with_the_call_and_never_shortens_it() -> None:
    call = {"ticker": "BABA", "rating": "Buy", "target": "USD 160.00", "upside": "+32.2%"}
    title = "Alibaba's AI Bet: capex, cloud share, chips and the long road to profit in 2027"
    mail = MailConfig()
    short = summary_of(**call)
    assert subject_template(mail, short) == RATED_SUBJECT
    subject = subject_line(RATED_SUBJECT, short)
    assert subject == "[BABA] Buy, target USD 160.00 (+32.2%): Acme's Big Bet"
    long = subject_line(RATED_SUBJECT, summary_of(**call, title=title))
    assert len(long) <= SUBJECT_MAX and long.endswith("\u2026")
    assert long.startswith("[BABA] Buy, target USD 160.00 (+32.2%): Alibaba's AI Bet")
    assert subject_template(mail, summary_of()) == SUBJECT  # no rating: the old default
    assert attachment_name(mail.attachment, summary_of(ticker=None)) == "acme-2026-11-21.pdf"


def test_the_body_opens_with_the_call(tmp_path: Path) -> None:
    market = {
        **{"price": 121.0, "currency": "USD", "date": "2026-11-21", "target": 160},
        **{"horizon": "12 months", "rating": "Buy", "source": "alpha"},
    }
    checked = validate(load_spec(write_brief(tmp_path / "acme", {**MINIMAL, "market": market})))
    summary = summarize(checked)
    assert (summary.rating, summary.target, summary.upside) == ("Buy", "USD 160.00", "+32.2%")
    text, html = MailTemplates(Renderer()).bodies(summary, None, "ACME-2026-11-21.pdf")
    assert text.startswith("Buy, target USD 160.00 (+32.2% upside)\nVerdict: High-Risk")
    assert html.index("USD 160.00") < html.index("Verdict:") < html.index("Big Bet")


def test_summarize_is_pure_and_resolves_helpers_to_text(tmp_path: Path) -> None:
    spec = {**MINIMAL, "verdict": {**MINIMAL["verdict"], "summary": "verdict.md"}}
    brief = write_brief(tmp_path / "acme", spec)
    (brief / "verdict.md").write_text(
        'Revenue reached {{ metric("revenue") }} {{ cite("alpha") }}.\nSecond line.\n\nNext.',
        encoding="utf-8",
    )
    checked = validate(load_spec(brief))
    (brief / "brief.yaml").unlink()  # summarize reads nothing from disk
    summary = summarize(checked)
    assert summary.summary == "Revenue reached USD 12.5bn. Second line.\n\nNext."
    [figure] = summary.key_figures
    assert (figure.label, figure.value, figure.period, figure.source) == (
        "Revenue",
        "USD 12.5bn",
        "FY2025",
        "Alpha Report",
    )


def test_a_broken_mail_template_fails_that_brief_in_one_line(project: Path) -> None:
    mail = project / "templates" / "mail"
    mail.mkdir(parents=True)
    (mail / "brief.html.j2").write_text("<p>{{ s.title }}</p>\n<p>{{ nothing_here }}</p>\n")
    path = write_config(project, free_port(), to=["pm@example.com"])
    report = send_briefs(load_config(path), [project / "briefs" / "acme"], dry_run=project / "eml")
    assert report.exit_code == 1
    [detail] = report.outcomes[0].details
    assert "brief.html.j2:2: mail template: 'nothing_here' is undefined" in detail
    assert not (project / "eml").exists()


def test_a_rated_brief_mail_never_says_not_a_recommendation(tmp_path: Path) -> None:
    """A Buy in the subject and "not a recommendation to buy" at the foot contradict each other."""
    market = {
        **{"price": 121.0, "currency": "USD", "date": "2026-11-21", "target": 160},
        **{"horizon": "12 months", "rating": "Buy", "source": "alpha"},
    }
    rated = validate(load_spec(write_brief(tmp_path / "rated", {**MINIMAL, "market": market})))
    unrated = validate(load_spec(write_brief(tmp_path / "acme", MINIMAL)))
    mail = MailTemplates(Renderer())
    for body in mail.bodies(summarize(rated), None, "ACME-2026-11-21.pdf"):
        assert "not a recommendation" not in body.lower() and "investment advice" not in body
        assert "analysts' views" in body and "not been independently audited" in body
    text, _ = mail.bodies(summarize(unrated), None, "acme.pdf")
    assert "not a recommendation to buy or sell" in text


def test_the_body_dates_the_data_as_the_page_does(tmp_path: Path) -> None:
    """ "21 November 2026" as on the PDF, not the ISO 2026-11-21 of the files."""
    summary = summarize(validate(load_spec(write_brief(tmp_path / "acme", MINIMAL))))
    for body in MailTemplates(Renderer()).bodies(summary, None, "acme.pdf"):
        assert "data as of 21 November 2026" in body and "2026-11-21" not in body


def test_the_failure_notice_names_each_brief_and_never_claims_a_doubtful_one_unsent() -> None:
    subject, lines = failure_notice(
        "nightly", "r1", [("acme", ["build failed: x"]), ("evil\r\nBcc: x@y", ["in doubt"])]
    )
    assert subject.startswith("[reportgen] nightly run r1: 2 failed: acme, evil")
    assert "\r" not in subject and "\n" not in subject  # a hostile name is one line of text
    assert lines[:4] == [
        "reportgen nightly run r1 could not deliver:",
        "",
        "acme:",
        "  build failed: x",
    ]
    assert "one in doubt may have been" in lines[-1]

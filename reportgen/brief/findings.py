"""build/<id>/findings.json: what the author must know about a built PDF, and the send gate.

Check messages are written for the author and never reach the reader's copy;
they go to `reportgen check`, the build's output, `--json` and this file, written
with every PDF (and naming that PDF's sha256). `send` and `nightly` read it back:
a PDF is emailed only when the file describes exactly that PDF and says it is
publishable, every finding accepted in review.yaml.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reportgen.brief.review import Acceptance, Gate
from reportgen.errors import Problem

FINDINGS_FILE = "findings.json"


def _finding_dict(problem: Problem, acceptance: Acceptance | None = None) -> dict[str, Any]:
    """One finding as the author reads it: key, place, message, values (and sign-off)."""
    out: dict[str, Any] = {
        "finding": problem.finding,
        "where": f"{problem.path}:{problem.line}" if problem.line else str(problem.path),
        "key": problem.key,
        "message": problem.message,
        "values": list(problem.values),
    }
    if acceptance is not None:
        on = acceptance.on.isoformat()
        out["accepted"] = {"by": acceptance.by, "on": on, "reason": acceptance.reason}
    return out


def findings_json(brief_id: str, gate: Gate, pdf_sha256: str) -> bytes:
    """build/<id>/findings.json: what the author must know about the PDF with this hash."""
    report = {
        "brief": brief_id,
        "pdf_sha256": pdf_sha256,
        "publishable": gate.publishable,
        "open": [_finding_dict(p) for p in gate.open],
        "accepted": [_finding_dict(p, a) for p, a in gate.accepted],
    }
    return json.dumps(report, indent=1, ensure_ascii=False).encode("utf-8")


def why_not_publishable(pdf: Path) -> list[str]:
    """Why the PDF must not be emailed (empty: it may): its open findings, or a
    findings.json that is missing or describes another PDF."""
    path = pdf.parent / FINDINGS_FILE
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        sha, publishable, found = report["pdf_sha256"], report["publishable"], report["open"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{path}: missing or unreadable: rebuild the brief"]
    if sha != hashlib.sha256(pdf.read_bytes()).hexdigest():
        return [f"{path} describes another build than {pdf.name}: rebuild the brief"]
    if publishable:
        return []
    return [f"{f['where']}: {f['key']}: [{f['finding']}] {f['message']}" for f in found]

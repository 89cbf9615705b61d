"""build/<id>/findings.json: what the author must know about a built PDF.

Check messages are written for the author and never reach the reader's copy;
they go to `reportgen check`, the build's output, `--json` and this file, written
with every PDF (and naming that PDF's sha256). The send gate itself reads the
build record's open findings (output.LastGood), so a PDF built before a review
was accepted stays a draft until it is rebuilt.
"""

from __future__ import annotations

import json
from typing import Any

from reportgen.brief.review import Acceptance, Gate
from reportgen.errors import Problem


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

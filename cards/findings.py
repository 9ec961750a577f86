"""The Finding record every checker returns: severity, field, problem, fix and line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem found in a card, results file or merge config."""

    severity: Severity
    field: str  # e.g. 'license', 'base_model[0]', 'body', 'results.cola'
    problem: str
    fix: str
    line: int | None = None

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    def as_text(self) -> str:
        """One line for people: 'error  license (line 3): problem. Fix: fix.'."""
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.severity:<7} {self.field}{where}: {self.problem}. Fix: {self.fix}"


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; stable within a severity by line."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.line or 0))


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity == "error" for f in findings)

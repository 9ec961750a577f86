"""Typed errors raised by the cards package; only the CLI turns them into messages."""

from __future__ import annotations


class CardError(Exception):
    """Base class for every error the cards package raises on purpose."""


class InputError(CardError, ValueError):
    """An input file that cannot be used at all (missing, too large, not UTF-8 text)."""


class YamlError(CardError, ValueError):
    """YAML that does not parse, or that is refused (alias bomb, too deep); carries the line."""

    def __init__(self, what: str, problem: str, line: int | None = None, fix: str | None = None):
        self.what, self.problem, self.line, self.fix = what, problem, line, fix
        where = f" (line {line})" if line is not None else ""
        tail = f"; {fix}" if fix else ""
        super().__init__(f"{what}{where}: {problem}{tail}")


class SpecError(CardError, ValueError):
    """A card spec that does not validate; each problem names the field and the fix."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            msg = f"invalid card spec: {self.problems[0]}"
        else:
            msg = "invalid card spec:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(msg)


class ResultsError(CardError, ValueError):
    """An evaluation results file that is not lm-evaluation-harness output we can read."""


class MergeConfigError(CardError, ValueError):
    """A mergekit configuration that cannot be read."""


class TrainingImportError(CardError, ValueError):
    """A TrainingArguments JSON or axolotl YAML that cannot be read."""


class HubError(CardError, RuntimeError):
    """A push to the Hub that could not be made; the message never contains the token."""

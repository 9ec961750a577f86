"""Markdown plumbing: front matter, headings outside code fences, pipe tables, managed-section markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The Hub's own front-matter regex (huggingface_hub.repocard.REGEX_YAML_BLOCK), kept in sync by hand.
FRONT_MATTER = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})(.*)$")
MARKER = re.compile(r"^<!--\s*lineup:(begin|end)\s+([A-Za-z_][\w-]*)\s*-->\s*$")
TABLE_SEP_CELL = re.compile(r"^\s*:?-{1,}:?\s*$")


@dataclass(frozen=True)
class FrontMatter:
    """A card split into its YAML block and body; line numbers are 1-based in the whole file."""

    yaml_text: str | None
    body: str
    yaml_first_line: int  # file line of the first YAML line
    body_first_line: int  # file line of the first body line


def split_front_matter(text: str) -> FrontMatter:
    """Split a README into front matter and body exactly as the Hub does.

    Args:
        text: the whole README.

    Returns:
        FrontMatter; yaml_text is None when the card has no metadata block.
    """
    match = FRONT_MATTER.search(text)
    if not match:
        return FrontMatter(None, text, 0, 1)
    first = match.group(1).count("\n") + 1
    body_line = text[: match.end()].count("\n") + 1
    return FrontMatter(match.group(2), text[match.end():], first, body_line)


def _closes(line: str, fence: str) -> bool:
    """Whether a line closes a code block opened with `fence` (same character, at least as long, no info)."""
    m = FENCE.match(line)
    return bool(m) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip()


def code_blocks(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """Fenced code blocks as (open index, close index, info string, content); close is len(lines) if never closed."""
    out = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = next((k for k in range(i + 1, len(lines)) if _closes(lines[k], m.group(1))), len(lines))
        out.append((i, j, m.group(2).strip(), "\n".join(lines[i + 1: j])))
        i = j + 1
    return out


def code_mask(lines: list[str]) -> list[bool]:
    """For each line, True when it is inside (or delimits) a fenced code block."""
    mask = [False] * len(lines)
    for start, end, _, _ in code_blocks(lines):
        for i in range(start, min(end + 1, len(lines))):
            mask[i] = True
    return mask


def unclosed_fence(lines: list[str]) -> int | None:
    """The 0-based index of a code fence that is never closed, or None."""
    return next((start for start, end, _, _ in code_blocks(lines) if end >= len(lines)), None)


@dataclass(frozen=True)
class Heading:
    """An ATX heading outside code fences."""

    index: int  # 0-based line index in the text it came from
    level: int
    title: str
    canonical: bool  # '#'*level + ' ' + title reproduces the line exactly


def headings(lines: list[str]) -> list[Heading]:
    """All ATX headings outside code fences.

    Args:
        lines: the text split into lines.

    Returns:
        The headings in order.
    """
    mask = code_mask(lines)
    out = []
    for i, line in enumerate(lines):
        if mask[i]:
            continue
        m = ATX_HEADING.match(line)
        if m:
            title = re.sub(r"[ \t]+#+$", "", m.group(2))
            out.append(Heading(i, len(m.group(1)), title, line == f"{m.group(1)} {title}"))
    return out


def heading_line(level: int, title: str) -> str:
    """One ATX heading line."""
    return f"{'#' * level} {title}"


def split_row(line: str) -> list[str]:
    """Cells of one pipe-table row (escaped pipes kept inside cells)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", s)]


def is_separator(line: str) -> bool:
    """True for a table's '|---|:---:|' line."""
    if "-" not in line or "|" not in line:
        return False
    cells = split_row(line)
    return bool(cells) and all(TABLE_SEP_CELL.match(c) for c in cells)


@dataclass(frozen=True)
class Table:
    """A pipe table found in markdown."""

    start: int  # 0-based index of the header line
    end: int  # index one past the last row
    header: list[str]
    rows: list[list[str]]


def find_tables(lines: list[str]) -> list[Table]:
    """All pipe tables outside code fences.

    Args:
        lines: markdown split into lines.

    Returns:
        The tables in order, rows padded or cut to the header's width.
    """
    mask = code_mask(lines)
    out: list[Table] = []
    i = 0
    while i < len(lines) - 1:
        if not mask[i] and "|" in lines[i] and is_separator(lines[i + 1]) and not mask[i + 1]:
            header = split_row(lines[i])
            rows = []
            j = i + 2
            while j < len(lines) and not mask[j] and "|" in lines[j] and lines[j].strip():
                cells = split_row(lines[j])
                rows.append((cells + [""] * len(header))[: len(header)])
                j += 1
            out.append(Table(i, j, header, rows))
            i = j
        else:
            i += 1
    return out


def escape_cell(text: str) -> str:
    """Make text safe for one table cell (pipes escaped, newlines turned into <br>)."""
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    """A pipe table; align holds 'l', 'r' or 'c' per column.

    Args:
        header: column titles.
        rows: cell texts, one list per row.
        align: optional alignment per column.

    Returns:
        The table text, one line per row, ending with a newline.
    """
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    seps = [marks[a] for a in (align or ["l"] * len(header))]
    lines = ["| " + " | ".join(escape_cell(h) for h in header) + " |", "|" + "|".join(seps) + "|"]
    lines += ["| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def unescape_cell(text: str) -> str:
    """Undo escape_cell."""
    return text.replace("<br>", "\n").replace("\\|", "|")


_MARKUP = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"</?(?:u|b|i|strong|em|sup|sub|span)[^>]*>"), ""),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
)


def plain(text: str) -> str:
    """Cell or heading text without links, emphasis, code ticks or inline HTML."""
    for rx, repl in _MARKUP:
        text = rx.sub(repl, text)
    return text.strip()


def normalise_title(text: str) -> str:
    """A heading reduced to lower-case words for matching ('## 🏆 Evaluation' -> 'evaluation')."""
    words = re.findall(r"[a-z0-9]+", plain(text).lower())
    return " ".join(words)


@dataclass(frozen=True)
class Marker:
    """One '<!-- lineup:begin kind -->' or '<!-- lineup:end kind -->' line."""

    index: int
    edge: str  # 'begin' or 'end'
    kind: str


def markers(lines: list[str]) -> list[Marker]:
    """All managed-section markers outside code fences."""
    mask = code_mask(lines)
    out = []
    for i, line in enumerate(lines):
        if not mask[i]:
            m = MARKER.match(line.strip())
            if m:
                out.append(Marker(i, m.group(1), m.group(2)))
    return out


def begin_marker(kind: str) -> str:
    """The line that opens a managed section."""
    return f"<!-- lineup:begin {kind} -->"


def end_marker(kind: str) -> str:
    """The line that closes a managed section."""
    return f"<!-- lineup:end {kind} -->"


def code_block(text: str, lang: str = "") -> str:
    """A fenced code block long enough not to be closed by backticks inside text."""
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip(chr(10))}\n{fence}\n"

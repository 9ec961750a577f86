"""The small text parts of a card (title, summary, lineage, limitations, links, citation), both ways."""

from __future__ import annotations

import re

from cards.hubids import hub_url, is_hub_id
from cards.mdtools import code_block, code_blocks, heading_line, headings
from cards.spec import CardSpec, CitationSpec, FreeSection, LineageSpec, LinksSpec

RELATION_WORDS = {"finetune": "fine-tune", "merge": "merge", "adapter": "adapter", "quantized": "quantization"}
_STEP = re.compile(r"^(\d+)\. (?:\[(?P<label>.+?)\]\((?P<url>\S+?)\)|\*\*(?P<name>.+?)\*\*)(?P<rest>.*)$")
_LINK = re.compile(r"^- \[(?P<label>.+?)\]\((?P<url>\S+?)\)(?: — (?P<note>.+))?$")


def title_md(spec: CardSpec) -> str:
    """'# Model name'."""
    return heading_line(1, spec.title or spec.model_name) + "\n"


def summary_md(spec: CardSpec) -> str:
    """The summary paragraphs."""
    return (spec.summary or "") + "\n"


def free_section_md(section: FreeSection) -> str:
    """A free section: heading and body."""
    body = f"\n{section.body}\n" if section.body else ""
    return heading_line(section.level, section.title) + "\n" + body


def limitations_md(spec: CardSpec) -> str:
    """The limitations section."""
    assert spec.limitations is not None
    return free_section_md(FreeSection(**spec.limitations.model_dump()))


def _step_md(n: int, step, this: bool = False) -> str:
    """One numbered lineage line."""
    label = step.label or step.model
    head = f"[{label}]({hub_url(step.model)})" if is_hub_id(step.model) else f"**{label}**"
    relation = f" — {RELATION_WORDS[step.relation]}" if step.relation else ""
    note = (f": {step.note}" if relation else f" — {step.note}") if step.note else ""
    return f"{n}. {head}{relation}{note}"


def lineage_md(spec: CardSpec) -> str:
    """The lineage list, oldest ancestor first, ending with this model."""
    lin = spec.lineage
    assert lin is not None
    lines = [_step_md(n, step) for n, step in enumerate(lin.chain, 1)]
    this = f"{len(lin.chain) + 1}. **{spec.title or spec.model_name}** (this model) — {RELATION_WORDS[lin.relation]}"
    lines.append(this + (f": {lin.note}" if lin.note else ""))
    return heading_line(lin.level, lin.title) + "\n\n" + "\n".join(lines) + "\n"


def parse_lineage_md(content: str) -> LineageSpec:
    """Read back lineage_md."""
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    if not heads or heads[0].index != 0:
        raise ValueError("lineage section does not start with a heading")
    steps = [line for line in lines[1:] if line.strip()]
    if len(steps) < 2:
        raise ValueError("lineage needs at least one ancestor")
    chain = []
    for line in steps[:-1]:
        m = _STEP.match(line)
        if not m:
            raise ValueError(f"unexpected lineage line {line!r}")
        step: dict = {}
        if m.group("url"):
            model = m.group("url").removeprefix("https://huggingface.co/")
            step["model"] = model
            if m.group("label") != model:
                step["label"] = m.group("label")
        else:
            step["model"] = m.group("name")
        _relation_note(m.group("rest"), step)
        chain.append(step)
    last = re.match(r"^\d+\. \*\*.+?\*\* \(this model\) — (?P<rel>[\w-]+)(?::\s(?P<note>.+))?$", steps[-1])
    if not last:
        raise ValueError("lineage does not end with this model")
    relation = {v: k for k, v in RELATION_WORDS.items()}[last.group("rel")]
    data = {"title": heads[0].title, "level": heads[0].level, "chain": chain, "relation": relation}
    if last.group("note"):
        data["note"] = last.group("note")
    return LineageSpec.model_validate(data)


def _relation_note(rest: str, step: dict) -> None:
    """Fill relation and note from the text after a lineage link."""
    words = {v: k for k, v in RELATION_WORDS.items()}
    m = re.match(r"^ — (?P<rel>[\w-]+)(?::\s(?P<note>.+))?$", rest)
    if m and m.group("rel") in words:
        step["relation"] = words[m.group("rel")]
        if m.group("note"):
            step["note"] = m.group("note")
    elif rest.startswith(" — "):
        step["note"] = rest[3:]
    elif rest:
        raise ValueError(f"unexpected lineage text {rest!r}")


def links_md(spec: CardSpec) -> str:
    """A bullet list of links."""
    links = spec.links
    assert links is not None
    items = [f"- [{i.label}]({i.url})" + (f" — {i.note}" if i.note else "") for i in links.items]
    return heading_line(links.level, links.title) + "\n\n" + "\n".join(items) + "\n"


def parse_links_md(content: str) -> LinksSpec:
    """Read back links_md."""
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    if not heads or heads[0].index != 0:
        raise ValueError("links section does not start with a heading")
    items = []
    for line in filter(str.strip, lines[1:]):
        m = _LINK.match(line)
        if not m:
            raise ValueError(f"unexpected links line {line!r}")
        items.append({k: v for k, v in m.groupdict().items() if v is not None})
    return LinksSpec(title=heads[0].title, level=heads[0].level, items=items)


def citation_md(spec: CardSpec) -> str:
    """The BibTeX block."""
    cit = spec.citation
    assert cit is not None
    return heading_line(cit.level, cit.title) + "\n\n" + code_block(cit.bibtex, "bibtex")


def parse_citation_md(content: str) -> CitationSpec:
    """Read back citation_md."""
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    blocks = code_blocks(lines)
    if not heads or heads[0].index != 0 or len(blocks) != 1:
        raise ValueError("citation section is not a heading and one code block")
    return CitationSpec(title=heads[0].title, level=heads[0].level, bibtex=blocks[0][3])

"""The free-sections editor: list, read, edit, add and remove the spec's `sections` items (no gradio).

Items are free sections ({title, level, body}), verbatim text kept by an import ({text}) and part
placements ({part}); the editor edits the first two and shows placements as read-only markers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ui.studio_data import put

NEW_TITLE = "New section"


@dataclass(frozen=True)
class SectionFields:
    """What the editor shows for one item."""

    title: str
    body: str
    editable_title: bool  # False for verbatim text and placements
    editable_body: bool  # False for placements
    note: str


def _items(data: Any) -> list:
    """The sections list ([] when absent or not a list)."""
    items = data.get("sections") if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _label(n: int, item: Any) -> str:
    """A dropdown label for one item."""
    if isinstance(item, dict) and "part" in item:
        return f"{n + 1}. [generated: {item['part']}]"
    if isinstance(item, dict) and "title" in item:
        return f"{n + 1}. {item['title']}"
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        first = next((line.strip() for line in item["text"].splitlines() if line.strip()), "")
        return f"{n + 1}. (kept text) {first[:40]}"
    return f"{n + 1}. (unreadable item)"


def section_choices(data: Any) -> list[tuple[str, str]]:
    """(label, index) pairs for the section picker, in body order."""
    return [(_label(n, item), str(n)) for n, item in enumerate(_items(data))]


def _index(data: Any, index: str | int | None) -> int | None:
    """A valid item index, or None."""
    try:
        n = int(index) if index not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return n if n is not None and 0 <= n < len(_items(data)) else None


def section_fields(data: Any, index: str | int | None) -> SectionFields:
    """What the editor shows for the item at index (blank and read-only when there is none)."""
    n = _index(data, index)
    if n is None:
        return SectionFields("", "", False, False, "No free sections yet: press “Add section”.")
    item = _items(data)[n]
    if isinstance(item, dict) and "part" in item:
        return SectionFields("", "", False, False,
                             f"Placement of the generated **{item['part']}** part; move it in the spec YAML.")
    if isinstance(item, dict) and "title" in item:
        return SectionFields(str(item.get("title") or ""), str(item.get("body") or ""), True, True,
                             f"Heading level {item.get('level', 2)} (change it in the spec YAML).")
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return SectionFields("", item["text"], False, True, "Markdown kept exactly as imported (headings included).")
    return SectionFields("", "", False, False, "This item is not a section; fix it in the spec YAML.")


def apply_section(data: Any, index: str | int | None, title: str, body: str) -> dict | None:
    """Spec data with the item at index edited; None when there is nothing editable there."""
    n = _index(data, index)
    if n is None:
        return None
    out = copy.deepcopy(data)
    item = out["sections"][n]
    if not isinstance(item, dict) or "part" in item:
        return None
    if "title" in item:
        item["title"] = title
        item["body"] = body
    elif "text" in item:
        item["text"] = body
    return out


def add_section(data: Any) -> tuple[dict, str]:
    """Spec data with a new free section appended, and the new item's index."""
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    if not isinstance(out.get("sections"), list):
        put(out, "sections", [])
    out["sections"].append({"title": NEW_TITLE, "body": ""})
    return out, str(len(out["sections"]) - 1)


def remove_section(data: Any, index: str | int | None) -> dict | None:
    """Spec data without the item at index (None when the index is not valid)."""
    n = _index(data, index)
    if n is None:
        return None
    out = copy.deepcopy(data)
    del out["sections"][n]
    if not out["sections"]:
        del out["sections"]
    return out

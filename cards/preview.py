"""A sanitised HTML preview of a card (markdown + nh3) and a unified diff between two cards."""

from __future__ import annotations

import difflib

import markdown
import nh3

from cards.mdtools import code_block, split_front_matter

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "code": {"class"},
    "div": {"align"},
    "p": {"align"},
}
# Removed together with their content (everything else not allowed loses its tag but keeps its text).
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math", "form"}


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Images only from https URLs; code classes only 'language-*'."""
    if tag == "img" and attr == "src" and not value.lower().startswith("https://"):
        return None
    if tag == "code" and attr == "class" and not value.startswith("language-"):
        return None
    return value


def render_preview(readme_text: str) -> str:
    """Render a README to HTML that is safe to show in a browser.

    Args:
        readme_text: the card (front matter is shown as a YAML block).

    Returns:
        HTML without scripts, styles, iframes, objects, event-handler attributes or
        javascript:/data:/vbscript: URLs; tables, code blocks and https images are kept.
    """
    readme_text = readme_text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
    fm = split_front_matter(readme_text)
    source = fm.body if fm.yaml_text is None else code_block(fm.yaml_text, "yaml") + "\n" + fm.body
    html = markdown.markdown(source, extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def diff_cards(old: str, new: str, old_name: str = "a/README.md", new_name: str = "b/README.md") -> str:
    """A unified diff between two cards ('' when they are equal).

    Args:
        old: the current card.
        new: the proposed card.
        old_name: label for the old side.
        new_name: label for the new side.

    Returns:
        The diff text.
    """
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=old_name, tofile=new_name))

"""The HTML preview is sanitised; the diff helper is a plain unified diff."""

from __future__ import annotations

import pytest

from cards import diff_cards, render_preview


@pytest.mark.parametrize(
    ("markdown", "absent"),
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ("<style>body{display:none}</style>", ["<style", "display:none"]),
        ('<iframe src="https://evil.example">x</iframe>', ["<iframe", "evil.example"]),
        ('<object data="x.swf">y</object>', ["<object", "x.swf"]),
        ('<img src="https://ok.example/a.png" onerror="alert(1)">', ["onerror"]),
        ('<a href="https://ok.example" onclick="steal()">x</a>', ["onclick", "steal"]),
        ("[x](javascript:alert(1))", ["javascript:"]),
        ("[x](vbscript:msgbox(1))", ["vbscript:"]),
        ("![x](data:image/png;base64,AAAA)", ["data:image"]),
        ("![x](http://plain.example/a.png)", ["http://plain.example"]),
        ('<div style="background:url(javascript:x)">s</div>', ["style=", "javascript"]),
        ("<!-- lineup:begin links -->", ["lineup:begin"]),
        ('<form action="https://x"><input name="p"></form>', ["<form", "<input"]),
    ],
)
def test_dangerous_markup_is_removed(markdown, absent):
    html = render_preview(f"# T\n\n{markdown}\n")
    for text in absent:
        assert text not in html


@pytest.mark.parametrize(
    ("markdown", "present"),
    [
        ("| a | b |\n|---|---|\n| 1 | 2 |", ["<table>", "<td>1</td>"]),
        ("```python\nprint(1)\n```", ['<code class="language-python">', "print(1)"]),
        ("![alt](https://img.example/a.png)", ['src="https://img.example/a.png"', 'alt="alt"']),
        ("[link](https://ok.example)", ['href="https://ok.example"', 'rel="noopener noreferrer nofollow"']),
        ("**bold** and `code`", ["<strong>bold</strong>", "<code>code</code>"]),
    ],
)
def test_safe_markup_is_kept(markdown, present):
    html = render_preview(f"{markdown}\n")
    for text in present:
        assert text in html


def test_front_matter_is_shown_as_yaml():
    html = render_preview("---\nlicense: mit\n---\n# T\n")
    assert '<code class="language-yaml">license: mit' in html and "<h1>T</h1>" in html


def test_diff():
    assert diff_cards("a\nb\n", "a\nb\n") == ""
    diff = diff_cards("a\nb\n", "a\nc\n")
    assert diff.splitlines() == ["--- a/README.md", "+++ b/README.md", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]

"""The card preview is sanitised: an XSS corpus never executes, checked in the HTML and in headless Chromium.

Each payload sets ``window.__xss`` (or opens a dialog) if it ever runs. The sanitised previews are
loaded into one page, every element gets the events that trigger handlers (load, error, focus,
toggle, mouse, click on non-http links), and the tripwires must stay untouched. The same corpus is
then imported through the studio of the real app, and typed into the Playground chat.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from cards.preview import render_preview

SVG_SCRIPT_B64 = "PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnIG9ubG9hZD0nd2luZG93Ll9feHNzPTI3Jy8+"
CORPUS = [
    ("script-tag", "<script>window.__xss=1</script>"),
    ("img-onerror", '<img src=x onerror="window.__xss=2">'),
    ("img-https-onload", '<img src="https://example.invalid/a.png" onload="window.__xss=3">'),
    ("svg-onload", '<svg onload="window.__xss=4"><circle r="1"/></svg>'),
    ("svg-script", "<svg><script>window.__xss=5</script></svg>"),
    ("a-javascript-href", '<a href="javascript:window.__xss=6">click</a>'),
    ("markdown-javascript-link", "[click](javascript:window.__xss=7)"),
    ("markdown-mixed-case-scheme", "[click](JaVaScRiPt:window.__xss=8)"),
    ("markdown-entity-tab-scheme", "[click](java&#x09;script:window.__xss=9)"),
    ("markdown-data-url", "[click](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTA8L3NjcmlwdD4=)"),
    ("markdown-image-javascript", "![img](javascript:window.__xss=11)"),
    ("iframe-javascript", '<iframe src="javascript:window.__xss=12"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>parent.__xss=13</script>"></iframe>'),
    ("object-data", '<object data="javascript:window.__xss=14"></object>'),
    ("embed-src", '<embed src="javascript:window.__xss=15">'),
    ("details-ontoggle", '<details open ontoggle="window.__xss=16"><summary>x</summary>y</details>'),
    ("style-attribute-url", '<div style="background:url(javascript:window.__xss=17)">x</div>'),
    ("style-tag-import", "<style>@import 'javascript:window.__xss=18';</style>"),
    ("math-mutation", '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=19">'),
    ("form-action", '<form action="javascript:window.__xss=20"><button>go</button></form>'),
    ("input-autofocus", '<input autofocus onfocus="window.__xss=21">'),
    ("body-onload", '<body onload="window.__xss=22">'),
    ("a-onclick", '<a href="https://example.invalid" onclick="window.__xss=23;return false">x</a>'),
    ("base-href", '<base href="javascript:/">'),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=25">'),
    ("td-background", '<table><tr><td background="javascript:window.__xss=26">x</td></tr></table>'),
    ("img-svg-data-url", f'<img src="data:image/svg+xml;base64,{SVG_SCRIPT_B64}">'),
    ("markdown-reference-link", "[x][r]\n\n[r]: javascript:window.__xss=28"),
    ("markdown-autolink", "<javascript:window.__xss=29>"),
    ("entity-encoded-scheme", '<a href="&#106;avascript:window.__xss=30">x</a>'),
    ("code-onmouseover", '<code class="language-py" onmouseover="window.__xss=32">x</code>'),
    ("noscript-breakout", '<noscript><p title="</noscript><img src=x onerror=window.__xss=33>"></noscript>'),
    ("html-comment", "<!--<img src=x onerror=window.__xss=34>-->"),
    ("control-char-scheme", "[x](\x01javascript:window.__xss=35)"),
    ("vbscript", '<a href="vbscript:msgbox(36)">x</a>'),
    ("alert-dialog", '<img src=x onerror="alert(37)">'),
    ("link-title-breakout", '[x](https://example.invalid "title\\" onmouseover=\\"window.__xss=38")'),
    ("table-cell-html", "| a |\n|---|\n| <img src=x onerror=window.__xss=39> |"),
    ("heading-html", "# Title <img src=x onerror=window.__xss=40>"),
    ("fenced-code-html", "```html\n<img src=x onerror=window.__xss=41>\n```"),
]
FRONT_MATTER_PAYLOAD = 'license: "<script>window.__xss=31</script>"\ntags: ["<img src=x onerror=window.__xss=42>"]'
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "input", "base", "meta",
                  "body", "noscript", "link", "frame", "frameset", "applet", "template", "button", "textarea"}
SAFE_SCHEMES = ("https://", "http://", "mailto:", "#")


def _card(body: str) -> str:
    return f"---\n{FRONT_MATTER_PAYLOAD}\n---\n# Card\n\n{body}\n"


class _Audit(HTMLParser):
    """Collects what makes HTML dangerous: tags, event-handler attributes, unsafe URLs, style attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on") or name in ("style", "srcdoc", "background", "formaction", "action"):
                self.problems.append(f"{tag} {name}=")
            if name in ("href", "src") and value and not value.lower().startswith(SAFE_SCHEMES):
                self.problems.append(f"{tag} {name}={value[:40]}")
            if tag == "img" and name == "src" and not value.lower().startswith("https://"):
                self.problems.append(f"img src={value[:40]}")


@pytest.mark.parametrize("payload", [c[1] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_preview_html_has_no_executable_content(payload):
    out = render_preview(_card(payload))
    audit = _Audit()
    audit.feed(out)
    assert audit.problems == [], (audit.problems, out)
    assert "<script" not in out.lower()


TRIGGER_JS = """() => {
  const names = ['load', 'error', 'focus', 'toggle', 'mouseover', 'mouseenter', 'animationstart', 'pointerdown'];
  for (const el of document.querySelectorAll('#previews *')) {
    for (const n of names) { try { el.dispatchEvent(new Event(n)); } catch (e) {} }
    if (el.tagName === 'A') {
      const href = (el.getAttribute('href') || '').toLowerCase();
      if (!href.startsWith('http') && !href.startsWith('mailto:') && !href.startsWith('#')) el.click();
    }
  }
}"""


@pytest.mark.browser
def test_no_payload_executes_in_chromium(browser_page):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route("**/*", lambda route: route.abort())  # nothing leaves the page (images, links)
    previews = "".join(f'<section data-case="{cid}">{render_preview(_card(p))}</section>' for cid, p in CORPUS)
    page.set_content(f"<html><head><script>window.__xss = 0;</script></head><body><div id='previews'>{previews}</div></body></html>")
    page.evaluate(TRIGGER_JS)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") == 0
    assert dialogs == []
    assert page.locator("#previews section").count() == len(CORPUS)  # every preview was there to attack
    # the control: the same markup unsanitised does run (so the tripwire works)
    page.set_content("<html><body><script>window.__xss = 0;</script><img src=x onerror='window.__xss=99'></body></html>")
    page.wait_for_function("window.__xss === 99", timeout=5000)


@pytest.mark.browser
@pytest.mark.slow
def test_the_studio_preview_of_an_imported_card_runs_nothing(browser_page, app_url, tmp_path):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    card = tmp_path / "README.md"
    card.write_text(_card("\n\n".join(p for _, p in CORPUS)), encoding="utf-8")
    page.goto(app_url)
    page.evaluate("window.__xss = 0")
    page.get_by_role("tab", name="Model-card studio").click()
    with page.expect_file_chooser(timeout=30_000) as chooser:
        page.click("#studio-import-readme")
    chooser.value.set_files(str(card))
    page.wait_for_selector("#studio-status :text('Imported the README')", timeout=30_000)
    page.get_by_role("tab", name="Preview").click()
    page.wait_for_selector("#studio-preview .studio-card h1", timeout=30_000)
    page.evaluate(TRIGGER_JS.replace("#previews *", "#studio-preview *"))
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") == 0 and dialogs == []
    assert page.locator("#studio-preview script, #studio-preview iframe, #studio-preview svg").count() == 0


@pytest.mark.browser
@pytest.mark.slow
def test_payloads_typed_into_the_playground_chat_run_nothing(browser_page, app_url):
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    page.wait_for_selector("#lu-send", timeout=60_000)
    page.evaluate("window.__xss = 0")
    message = " ".join(p for _, p in CORPUS[:5]) + " <|im_end|>"
    page.fill("#lu-message textarea", message)
    page.fill("#lu-system textarea", "<img src=x onerror=\"window.__xss=100\">")
    page.click("#lu-send")
    page.wait_for_selector("#lu-metrics-0 .lu-chip:has-text('stop:')", timeout=60_000)
    page.click("#lu-raw-acc-0 >> text=Raw prompt")
    page.wait_for_timeout(500)
    page.evaluate(TRIGGER_JS.replace("#previews *", "#lu-chat-0 *, #lu-raw-0 *"))
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") == 0 and dialogs == []

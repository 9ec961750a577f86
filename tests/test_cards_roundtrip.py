"""Round trip: import a card, build it again; metadata and free text survive, managed sections stay in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards import build, dump_spec, import_card, import_card_report, load_spec, update_card
from cards.errors import CardError
from cards.mdtools import markers, split_front_matter
from cards.safeyaml import load_yaml
from cards.spec import FreeText, Placement

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
LAYOUTS = {
    "slerp-leaderboard.README.md": ["text", "merge", "text", "leaderboard", "text"],
    "stock-mergekit.README.md": ["text", "merge"],
    "moe-other-license.README.md": ["text", "merge", "text"],
    "norwegian.README.md": ["text"],
}


def _meta(card: str) -> dict:
    """Front matter as an ordered dict."""
    fm = split_front_matter(card)
    return load_yaml(fm.yaml_text, "front matter") if fm.yaml_text else {}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_import_recognises_known_sections(name):
    spec = import_card((FIXTURES / name).read_text())
    kinds = [s.part if isinstance(s, Placement) else "text" for s in spec.sections]
    assert kinds == LAYOUTS[name]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_round_trip_keeps_metadata_and_free_text(name):
    original = (FIXTURES / name).read_text()
    spec = import_card(original)
    rebuilt = build(spec)
    before, after = _meta(original), _meta(rebuilt)
    assert after == before
    assert list(after) == list(before)
    position = 0
    for part in spec.sections:  # free text comes back verbatim and in order
        if isinstance(part, FreeText):
            found = rebuilt.find(part.text, position)
            assert found >= 0, part.text[:60]
            position = found + len(part.text)
    assert build(import_card(rebuilt)) == rebuilt  # a second round changes nothing
    assert build(load_spec(dump_spec(spec))) == rebuilt  # the spec file holds everything


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_managed_sections_appear_once(name):
    rebuilt = build(import_card((FIXTURES / name).read_text()))
    begins = [m.kind for m in markers(split_front_matter(rebuilt).body.split("\n")) if m.edge == "begin"]
    assert len(begins) == len(set(begins))
    twice = build(import_card(rebuilt))
    assert [m.kind for m in markers(split_front_matter(twice).body.split("\n")) if m.edge == "begin"] == begins


def test_card_without_trailing_newline_keeps_its_end():
    original = (FIXTURES / "slerp-leaderboard.README.md").read_text()
    assert not original.endswith("\n")
    assert build(import_card(original)).endswith("Thanks for reading!")


def test_norwegian_stays_a_string_and_is_quoted():
    rebuilt = build(import_card((FIXTURES / "norwegian.README.md").read_text()))
    assert _meta(rebuilt)["language"] == ["no", "en"]
    assert "- 'no'" in rebuilt and "inference: 'no'" in rebuilt


def test_leaderboard_values_survive_import():
    spec = import_card((FIXTURES / "slerp-leaderboard.README.md").read_text())
    assert spec.leaderboard.scores == {"arc": 61.5, "hellaswag": 80.25}
    assert spec.leaderboard.average == 70.88
    assert spec.leaderboard.model_index is False  # the card's own model-index stays in metadata
    assert "| Avg. | 70.88 |" in build(spec)


def test_stock_mergekit_import_suggests_path_map():
    result = import_card_report((FIXTURES / "stock-mergekit.README.md").read_text())
    assert result.spec.merge.config.startswith("models:\n  - model: /mnt/models/Mistral-7B-Instruct-v0.2")
    assert any("merge.path_map: {'/mnt/models/Mistral-7B-v0.1': 'mistralai/Mistral-7B-v0.1'}" in n
               for n in result.notes)


def test_merge_section_with_other_prose_is_left_alone():
    text = "---\nlicense: mit\n---\n\n## Configuration\n\nWe tried many things.\n\n```yaml\nmodels:\n" \
           "  - model: org/a\nmerge_method: linear\n```\n"
    result = import_card_report(text)
    assert result.spec.merge is None
    assert build(result.spec).endswith("merge_method: linear\n```\n")
    assert any("kept as text" in n for n in result.notes)


def test_hand_edited_managed_section_is_kept_as_text():
    card = build({"model_name": "M", "links": [{"label": "a", "url": "https://a.example"}]})
    edited = card.replace("- [a](https://a.example)", "* some prose the parser does not know")
    result = import_card_report(edited)
    assert result.spec.links is None
    assert build(result.spec) == edited
    assert any("edited by hand" in n for n in result.notes)


def test_update_replaces_managed_sections_in_place():
    spec = load_spec("model_name: M\nmetadata: {license: mit}\nsummary: Hello.\nlinks:\n"
                     "  - {label: a, url: 'https://a.example'}\ncitation: '@misc{m}'\n")
    card = build(spec)
    by_hand = card.replace("Hello.", "Hello.\n\n## Notes added on the Hub\n\nKeep me.") + "\n## Footer\n\nBye.\n"
    by_hand = by_hand.replace("license: mit", "license: mit\nextra_key: kept")
    newer = load_spec("model_name: M\nmetadata: {license: apache-2.0}\nsummary: Hello.\nlinks:\n"
                      "  - {label: b, url: 'https://b.example'}\ncitation: '@misc{m}'\n")
    text, notes = update_card(by_hand, newer)
    assert "Keep me." in text and text.endswith("## Footer\n\nBye.\n")
    assert "[b](https://b.example)" in text and "[a](https://a.example)" not in text
    assert text.count("<!-- lineup:begin links -->") == 1
    assert _meta(text) == {"license": "apache-2.0", "extra_key": "kept"}
    assert "replaced links in place" in notes
    again, _ = update_card(text, newer)
    assert again == text


def test_update_inserts_new_managed_sections_after_their_predecessor():
    card = build(load_spec("model_name: M\nlinks: [{label: a, url: 'https://a.example'}]\n"))
    newer = load_spec("model_name: M\nlinks: [{label: a, url: 'https://a.example'}]\ncitation: '@misc{m}'\n")
    text, notes = update_card(card, newer)
    assert text.index("lineup:begin links") < text.index("lineup:begin citation")
    assert "inserted citation after links" in notes


def test_update_refuses_duplicated_sections():
    card = build(load_spec("model_name: M\nlinks: [{label: a, url: 'https://a.example'}]\n"))
    body = split_front_matter(card).body
    with pytest.raises(CardError, match="two 'links' managed sections"):
        update_card(card + body, load_spec("model_name: M\n"))

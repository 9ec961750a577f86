"""Safe YAML: YAML 1.2 booleans, refusal of bombs and deep nesting, size caps, line numbers."""

from __future__ import annotations

import pytest

from cards.errors import InputError, YamlError
from cards.safeyaml import MAX_INPUT_BYTES, decode_text, dump_yaml, load_yaml, read_text, yaml11_bool_traps


def _laughs(levels: int, width: int = 9) -> str:
    """A billion-laughs document: each level repeats the previous one `width` times."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("language: no", {"language": "no"}),
        ("language: [no, en]", {"language": ["no", "en"]}),
        ("x: yes\ny: On\nz: off", {"x": "yes", "y": "On", "z": "off"}),
        ("inference: false\nflag: True", {"inference": False, "flag": True}),
        ("lr: 1e-5", {"lr": 1e-05}),
        ("lr: 2.0e-05", {"lr": 2e-05}),
        ("when: 2024-01-01", {"when": "2024-01-01"}),
        ("t: 1:20", {"t": "1:20"}),
        ("n: 0755", {"n": "0755"}),
        ("n: 12\nm: -3\nh: 0x1f", {"n": 12, "m": -3, "h": 31}),
        ("thumbnail: null\nx: ~", {"thumbnail": None, "x": None}),
        ("a: &x [1, 2]\nb: *x", {"a": [1, 2], "b": [1, 2]}),
    ],
)
def test_yaml12_scalars(text, expected):
    assert load_yaml(text, "t") == expected


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (_laughs(9), "more than 50 aliases", 7),  # 81 aliases: refused by count, at the 51st
        (_laughs(5, width=12), "expand to 296,135 nodes", None),  # 48 aliases but over 12**5 nodes
        ("a: &x [1, *x]", "contains it", 1),
        ("[" * 60 + "]" * 60, "nesting deeper", 1),
        ("a: [1\nb: 2", "does not parse", 2),
        ("key: value\n  bad: indent", "does not parse", 2),
        ("a: !!python/object:os.system ls", "does not parse", 1),
    ],
)
def test_refused_yaml_names_problem_and_line(text, message, line):
    with pytest.raises(YamlError) as err:
        load_yaml(text, "spec.yaml")
    assert message in str(err.value)
    assert err.value.line == line
    assert "spec.yaml" in str(err.value)


def test_line_offset_points_into_the_file():
    with pytest.raises(YamlError) as err:
        load_yaml("a: 1\nb: [", "front matter", line_offset=1)
    assert err.value.line == 3


def test_small_alias_use_is_fine():
    assert len(load_yaml(_laughs(3, width=5), "ok")["a2"]) == 5


def test_size_cap_on_text_and_files(tmp_path):
    big = "x: " + "a" * (MAX_INPUT_BYTES + 1)
    with pytest.raises(InputError, match="limit is 5 MB"):
        load_yaml(big, "spec.yaml")
    path = tmp_path / "README.md"
    path.write_text(big)
    with pytest.raises(InputError, match=r"README\.md is 5\.2 MB"):
        read_text(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\xff\xfe bad", "not UTF-8"), (b"", "")],
)
def test_decode_text(data, message):
    if message:
        with pytest.raises(InputError, match=message):
            decode_text(data, "x")
    else:
        assert decode_text(data, "x") == ""


def test_decode_normalises_line_endings_and_bom():
    assert decode_text("\ufeffa\r\nb\rc".encode(), "x") == "a\nb\nc"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "nope.md")
    with pytest.raises(InputError, match="is a directory"):
        read_text(tmp_path)


def test_yaml11_traps_found_with_lines():
    text = "language:\n- no\n- 'no'\ninference: off\nok: true\n"
    assert yaml11_bool_traps(text, line_offset=1) == [(3, "no"), (5, "off")]


def test_dump_quotes_words_pyyaml_would_misread():
    out = dump_yaml({"language": ["no", "en"], "x": "yes", "text": "a\nb\n"})
    assert "- 'no'" in out and "x: 'yes'" in out and "text: |" in out
    assert load_yaml(out, "round trip") == {"language": ["no", "en"], "x": "yes", "text": "a\nb\n"}

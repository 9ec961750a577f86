"""Exactly-one-BOS encoding, the prompt lint, truncation to a token budget, and format detection."""

from __future__ import annotations

import pytest
from tokenizer_factory import make_tokenizer

from playground.formats import get_format, list_formats
from playground.formats.detect import detect_format
from playground.formats.encode import encode_prompt, leading_bos_count, tokenizer_adds_bos
from playground.formats.lint import lint_prompt
from playground.formats.truncate import truncate_messages

CONVO = [
    {"role": "system", "content": "Be kind."},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi!"},
    {"role": "user", "content": "Bye"},
]


def tokenizer_for(fmt, add_bos: bool):
    """A tokenizer that carries every special token the format uses, with the chosen BOS rule."""
    bos = fmt.bos or "<s>"
    specials = tuple(t for t in fmt.special_tokens if t not in (bos, "</s>"))
    return make_tokenizer(bos, "</s>", specials, add_bos)


@pytest.mark.parametrize("add_bos", [True, False], ids=["adds-bos", "no-bos"])
@pytest.mark.parametrize("fmt_id", [f.id for f in list_formats() if f.chat_template])
def test_encode_prompt_never_doubles_and_never_drops_bos(fmt_id, add_bos):
    fmt = get_format(fmt_id)
    tok = tokenizer_for(fmt, add_bos)
    assert tokenizer_adds_bos(tok) is add_bos
    ids = encode_prompt(fmt.render(CONVO), tok)
    expected = 1 if (add_bos or fmt.bos == tok.bos_token) else 0
    assert leading_bos_count(ids, tok) == expected
    assert ids.count(tok.bos_token_id) == expected


def test_naive_encoding_would_double_the_bos_and_encode_prompt_does_not():
    fmt = get_format("cerebrum")
    tok = tokenizer_for(fmt, add_bos=True)
    prompt = fmt.render(CONVO)
    naive = tok(prompt)["input_ids"]
    assert leading_bos_count(naive, tok) == 2  # the trap this guards against
    assert leading_bos_count(encode_prompt(prompt, tok), tok) == 1


def test_lint_notes_bos_text_that_naive_encoding_would_double():
    fmt = get_format("cerebrum")
    findings = lint_prompt(fmt.render(CONVO), tokenizer_for(fmt, add_bos=True), fmt)
    assert [(f.code, f.severity) for f in findings] == [("bos-in-text", "info")]


def test_lint_reports_double_bos_in_the_ids_sent():
    fmt = get_format("cerebrum")
    tok = tokenizer_for(fmt, add_bos=True)
    prompt = fmt.render(CONVO)
    findings = lint_prompt(prompt, tok, fmt, ids=tok(prompt)["input_ids"])
    assert [(f.code, f.severity) for f in findings] == [("double-bos", "warning")]
    assert "2 BOS" in findings[0].message


def test_lint_is_clean_for_a_matching_tokenizer():
    fmt = get_format("metharme")
    assert lint_prompt(fmt.render(CONVO), tokenizer_for(fmt, add_bos=True), fmt) == []


def test_lint_reports_special_tokens_split_into_pieces():
    fmt = get_format("metharme")
    plain = make_tokenizer("<s>", "</s>", (), True)  # no <|user|> etc.
    findings = lint_prompt(fmt.render(CONVO), plain, fmt)
    split = [f for f in findings if f.code == "split-token"]
    assert {f.message.split("'")[1] for f in split} == {"<|system|>", "<|user|>", "<|model|>"}


def test_lint_finds_marker_tokens_without_a_format():
    plain = make_tokenizer(None, "</s>", ())
    findings = lint_prompt("<|im_start|>user\nhi<|im_end|>\n", plain)
    assert {f.code for f in findings} == {"split-token"}


def test_lint_reports_a_missing_generation_prompt():
    fmt = get_format("memphis")
    tok = tokenizer_for(fmt, add_bos=False)
    findings = lint_prompt(fmt.render(CONVO, add_generation_prompt=False), tok, fmt)
    assert [f.code for f in findings] == ["no-generation-prompt"]


def _long_convo(turns: int) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": "SYSTEM PROMPT"}]
    for i in range(turns):
        msgs += [{"role": "user", "content": f"question {i} " * 5}, {"role": "assistant", "content": f"answer {i} " * 5}]
    msgs.append({"role": "user", "content": "final question"})
    return msgs


def _counter(fmt, tok):
    return lambda msgs: len(encode_prompt(fmt.render(msgs), tok))


def test_truncation_keeps_system_and_drops_oldest_turns_first():
    fmt = get_format("metharme")
    tok = tokenizer_for(fmt, add_bos=True)
    count = _counter(fmt, tok)
    msgs = _long_convo(6)
    full = count(msgs)
    result = truncate_messages(msgs, full - 1, count)
    assert result.fits and result.dropped_turns == 1
    assert result.messages[0] == msgs[0]
    assert result.messages[1]["content"].startswith("question 1")
    assert result.messages[-1] == msgs[-1]
    assert result.tokens <= full - 1 and "dropped the 1 oldest" in result.notice


def test_truncation_drops_as_many_turns_as_needed_and_reports_them():
    fmt = get_format("chatml")
    tok = tokenizer_for(fmt, add_bos=False)
    count = _counter(fmt, tok)
    msgs = _long_convo(6)
    budget = count([msgs[0], *msgs[-3:]])  # room for the system, one turn and the question
    result = truncate_messages(msgs, budget, count)
    assert result.fits and result.dropped_turns == 5 and len(result.messages) == 4


def test_truncation_that_cannot_fit_says_so():
    fmt = get_format("chatml")
    tok = tokenizer_for(fmt, add_bos=False)
    result = truncate_messages(_long_convo(2), 3, _counter(fmt, tok))
    assert not result.fits and result.messages[-1]["content"] == "final question"
    assert "does not fit" in result.notice


def test_no_truncation_means_no_notice():
    fmt = get_format("chatml")
    tok = tokenizer_for(fmt, add_bos=False)
    result = truncate_messages(CONVO, 10_000, _counter(fmt, tok))
    assert result.dropped_turns == 0 and result.notice is None and result.messages == CONVO


def test_detect_prefers_the_catalog():
    choice = detect_format("metharme", tokenizer=None)
    assert choice.format_id == "metharme" and choice.source == "catalog" and choice.warning is None


def test_detect_recognises_a_tokenizer_template_as_a_registered_format():
    tok = make_tokenizer(None, "<|im_end|>", ("<|im_start|>",))
    tok.chat_template = get_format("chatml").chat_template
    choice = detect_format(None, tok)
    assert choice.format_id == "chatml" and choice.source == "tokenizer-match" and "guessed" in choice.warning


def test_detect_falls_back_to_the_tokenizer_template_with_a_warning():
    tok = make_tokenizer(None, "</s>")
    tok.chat_template = "{% for m in messages %}<<{{ m['role'] }}>>{{ m['content'] }}{% endfor %}"
    choice = detect_format(None, tok)
    assert choice.source == "tokenizer" and choice.warning
    assert choice.format.render([{"role": "user", "content": "x"}]) == "<<user>>x"


def test_detect_reports_plainly_when_nothing_is_known():
    choice = detect_format(None, make_tokenizer(None, "</s>"))
    assert choice.format is None and choice.source == "unknown" and "no prompt format" in choice.warning


def test_user_override_wins():
    assert detect_format("metharme", None, override="chatml").format_id == "chatml"

"""The Playground tab's pure adapters, without a browser: engine events -> chat views, form -> options."""

from __future__ import annotations

import pytest

from playground.catalog import get_model
from playground.errors import OptionsError
from playground.events import EventKind, GenerationEvent, StopReason
from playground.formats import get_format
from ui.chat_adapter import ColumnView, Throttle, assistant_messages, chat_messages, frames
from ui.playground_view import (
    AUTO_FORMAT,
    NO_PRESET,
    default_selection,
    fmt_params,
    format_badge,
    format_choices,
    header_html,
    model_choices,
    options_from_form,
    parse_seed,
    parse_stop,
    preset_choices,
    preset_values,
    raw_prompt_markdown,
)

COT = get_format("memphis-cot")


def ev(kind: EventKind, column: int = 0, **kw) -> GenerationEvent:
    return GenerationEvent(kind=kind, column=column, model_id=f"m{column}", **kw)


def token_stream(column: int, pieces: list[str], reason: StopReason = StopReason.EOS) -> list[GenerationEvent]:
    out, text = [], ""
    for i, p in enumerate(pieces, 1):
        text += p
        out.append(ev(EventKind.TOKEN, column, delta=p, text=text, generated_tokens=i, ttft_s=0.05, tokens_per_s=100.0))
    out.append(ev(EventKind.DONE, column, text=text, generated_tokens=len(pieces), ttft_s=0.05, tokens_per_s=120.0, stop_reason=reason))
    return out


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


# ---- ColumnView -------------------------------------------------------------------------------


def test_view_folds_status_tokens_and_done():
    view = ColumnView(0, "m0")
    view.apply(ev(EventKind.STATUS, status="loading m0", progress=0.5))
    assert "loading m0 50%" in view.metrics_line() and not view.done
    for e in token_stream(0, ["Hel", "lo"]):
        view.apply(e)
    assert view.text == "Hello" and view.done and view.stop_reason == "eos" and view.status is None
    line = view.metrics_line()
    assert "TTFT 0.05 s" in line and "120.0 tok/s" in line and "2 tokens" in line and "stop: eos" in line


def test_view_error_event_shows_the_message_not_a_traceback():
    view = ColumnView(1, "m1")
    view.apply(ev(EventKind.ERROR, 1, error="model 'x' could not be loaded: no weights", stop_reason=StopReason.ERROR))
    assert view.done and view.stop_reason == "error"
    assert view.metrics_line() == "error — model 'x' could not be loaded: no weights"
    assert chat_messages([], pending_user="hi", view=view)[-1] == {"role": "assistant", "content": "⚠️ model 'x' could not be loaded: no weights"}


def test_view_to_dict_is_the_api_shape():
    view = ColumnView(0, "m0")
    for e in token_stream(0, ["a", "b", "c"], StopReason.MAX_TOKENS):
        view.apply(e)
    d = view.to_dict()
    assert d["text"] == "abc" and d["stop_reason"] == "max_tokens" and d["metrics"]["generated_tokens"] == 3
    assert set(d["metrics"]) == {"ttft_s", "tokens_per_s", "generated_tokens", "prompt_tokens", "elapsed_s"}


# ---- chat messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "streaming", "expected"),
    [
        ("Two and two.", True, [("Two and two.", "pending")]),
        ("Two and two.\n### Answer:\n4", False, [("Two and two.", "done"), ("4", None)]),
        ("Two and two.\n### Answer:\n4", True, [("Two and two.", "done"), ("4", None)]),
        ("", True, [("", None)]),
    ],
)
def test_cot_rationale_is_a_thought_block_above_the_answer(text, streaming, expected):
    msgs = assistant_messages(text, COT.split_answer, streaming)
    got = [(m["content"], m.get("metadata", {}).get("status")) for m in msgs]
    assert got == expected
    if len(msgs) == 2:
        assert msgs[0]["metadata"]["title"] == "Rationale" and "metadata" not in msgs[1]


def test_plain_formats_have_no_thought_block():
    assert assistant_messages("Hi!\n### Answer:\nx", None, False) == [{"role": "assistant", "content": "Hi!\n### Answer:\nx"}]


def test_chat_messages_renders_history_then_the_running_turn():
    turns = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}]
    view = ColumnView(0, "m0", text="a2 so far")
    msgs = chat_messages(turns, pending_user="q2", view=view)
    assert [(m["role"], m["content"]) for m in msgs] == [("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2 so far")]


# ---- throttled frames -------------------------------------------------------------------------


def test_frames_throttle_tokens_but_send_every_final_event():
    clock = FakeClock()
    views = {0: ColumnView(0, "m0"), 1: ColumnView(1, "m1")}
    a, b = token_stream(0, ["a"] * 5), token_stream(1, ["b"] * 3, StopReason.STOP_STRING)
    merged = [a[0], b[0], a[1], b[1], a[2], b[2], b[3], a[3], a[4], a[5]]  # b's DONE is b[3], a's is a[5]
    out = []
    for frame in frames(merged, views, Throttle(interval_s=1.0, clock=clock)):
        out.append(frame)
    # the first token goes out at once; then nothing until a final event (clock never advances)
    assert out[0].changed == {0}
    assert [f.changed for f in out[1:-1]] == [{0, 1}, {0}]
    assert out[-1].final and out[-1].changed == frozenset()
    assert views[0].text == "aaaaa" and views[1].stop_reason == "stop_string"


def test_frames_idle_ticks_release_held_changes():
    clock = FakeClock()
    views = {0: ColumnView(0, "m0")}
    stream = token_stream(0, ["x", "y"])

    def events():
        yield stream[0]
        yield stream[1]  # held back: less than the interval after the first frame
        clock.t = 0.5
        yield None  # an idle tick after the interval: the held change goes out
        yield stream[2]

    out = list(frames(events(), views, Throttle(interval_s=0.1, clock=clock)))
    assert [f.changed for f in out] == [{0}, {0}, {0}, frozenset()]


def test_frames_ignore_events_of_unknown_columns():
    views = {0: ColumnView(0, "m0")}
    out = list(frames(token_stream(3, ["z"]), views))
    assert out == [out[-1]] and out[-1].final and views[0].text == ""


# ---- the form -> SamplingOptions --------------------------------------------------------------


def test_options_from_form_accepts_slider_floats_for_integers():
    opts = options_from_form({"temperature": 0.5, "top_k": 40.0, "max_new_tokens": 64.0}, seed="7", stop_text="END\\n\n\nSTOP")
    assert opts.top_k == 40 and opts.max_new_tokens == 64 and opts.seed == 7 and opts.stop == ("END\n", "STOP")


@pytest.mark.parametrize(
    ("values", "seed", "field", "fragment"),
    [
        ({"temperature": 3.0}, None, "temperature", "from 0.0 to 2.0"),
        ({"top_p": 0.0}, None, "top_p", "got 0.0"),
        ({"max_new_tokens": 10.5}, None, "max_new_tokens", "integer"),
        ({}, "abc", "seed", "integer from 0"),
        ({}, "1.5", "seed", "integer from 0"),
        ({}, str(2**40), "seed", "got"),
    ],
)
def test_invalid_settings_name_the_field_and_range(values, seed, field, fragment):
    with pytest.raises(OptionsError) as info:
        options_from_form(values, seed=seed)
    assert info.value.field == field and fragment in info.value.problem


@pytest.mark.parametrize(("seed", "expected"), [(None, None), ("", None), ("  ", None), (3, 3), (5.0, 5), ("12", 12)])
def test_parse_seed(seed, expected):
    assert parse_seed(seed) == expected


def test_parse_stop_skips_blank_lines_and_unescapes():
    assert parse_stop("a\n\n\\t b\nraw\\q") == ("a", "\t b", "raw\\q")


# ---- presets, choices, headers ----------------------------------------------------------------


def test_preset_values_cover_every_slider_and_none_is_empty():
    vals = preset_values("memphis-cot")
    assert vals["temperature"] == 0.5 and vals["top_p"] == 0.8 and vals["max_new_tokens"] == 512
    assert preset_values(NO_PRESET) == {} and preset_values(None) == {}


def test_card_presets_come_first_and_name_their_model():
    specs = [get_model("memphis-cot-3b"), get_model("cerebrum-7b")]
    choices = preset_choices(specs)
    assert choices[0] == (NO_PRESET, NO_PRESET)
    assert [c[1] for c in choices[1:3]] == ["memphis-cot", "cerebrum"]
    assert "card of Memphis-CoT 3B" in choices[1][0]


def test_model_choices_list_demo_models_first_and_say_what_real_ones_need():
    specs = [get_model("metharme-7b"), get_model("demo-llama")]
    choices = model_choices(specs, has_gpu=False)
    assert choices[0][1] == "demo-llama" and "[demo]" in choices[0][0]
    assert "needs network + GPU" in choices[1][0]
    assert "GPU" not in model_choices(specs, has_gpu=True)[1][0]
    assert default_selection(specs) == ["demo-llama"]


def test_header_shows_name_badges_format_quant_params_license_description():
    html = header_html(get_model("demo-llama"), "fp32", has_gpu=False)
    for piece in ("[demo] tiny Llama", "lu-badge-demo", "metharme", "fp32", "500K params", "license apache-2.0", "Metharme&#x27;s role tokens"):
        assert piece in html
    real = header_html(get_model("cat-llama3-70b"), "nf4", has_gpu=False)
    assert "70.6B params" in real and "needs network access" in real


@pytest.mark.parametrize(("params", "text"), [(None, "unknown"), (70.6, "70.6B"), (0.35, "350M"), (0.0005, "500K")])
def test_fmt_params(params, text):
    assert fmt_params(params) == text


def test_format_choices_start_with_auto_naming_the_catalog_format():
    choices = format_choices(get_model("demo-mistral"))
    assert choices[0] == ("auto (cerebrum)", AUTO_FORMAT) and ("tokenizer" in [c[1] for c in choices])


@pytest.mark.parametrize(
    ("source", "fid", "warning", "cls"),
    [("catalog", "metharme", None, "lu-badge-ok"), ("tokenizer", "tokenizer", "format guessed", "lu-badge-warn"), ("unknown", None, "none known", "lu-badge-warn")],
)
def test_format_badge_warns_when_guessed_or_unknown(source, fid, warning, cls):
    assert cls in format_badge(source, fid, warning)


def test_raw_prompt_view_has_prompt_ids_bos_and_lint():
    md = raw_prompt_markdown("<s>Hi", [1, 5, 6], 1, ["double BOS"], escaped=["<|im_end|>"])
    assert "<s>Hi" in md and "1 5 6" in md and "BOS count **1**" in md and "double BOS" in md and "<|im_end|>" in md
    assert "no warnings" in raw_prompt_markdown("x", None, None, [])


def test_metrics_html_shows_a_progress_bar_while_loading_then_chips():
    from ui.playground_view import metrics_html, status_html

    assert "no output yet" in metrics_html(None)
    view = ColumnView(0, "m0")
    view.apply(ev(EventKind.STATUS, status="loading <b>m0</b> weights", progress=0.4))
    html = metrics_html(view)
    assert 'style="width:40%"' in html and "&lt;b&gt;m0&lt;/b&gt;" in html
    for e in token_stream(0, ["a", "b"], StopReason.MAX_TOKENS):
        view.apply(e)
    view.seed = 1234
    html = metrics_html(view)
    assert "lu-progress" not in html and "stop: max_tokens" in html and "TTFT 0.05 s" in html and "seed 1234" in html
    view.fail("boom <script>")
    assert "boom &lt;script&gt;" in metrics_html(view)
    assert "lu-warn" in status_html("these models ... the columns run one after another")
    assert "replayed" in status_html("resident: none", "replayed")

"""The prompt-format registry: byte-exact renders, Jinja twins, card examples, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_util import assert_golden
from tokenizer_factory import make_tokenizer

from playground.errors import MessageError, UnknownFormatError
from playground.formats import format_from_tokenizer, format_ids, get_format, list_formats

TEMPLATES = Path(__file__).parent / "fixtures" / "templates"
SYS = "You are terse."

SHAPES: dict[str, list[dict[str, str]]] = {
    "user": [{"role": "user", "content": "Hi there!"}],
    "user-assistant-user": [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ],
    "system-user-assistant-user": [
        {"role": "system", "content": SYS},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue.</s>"},
        {"role": "user", "content": "Another one, please."},
    ],
    "long-multi-turn": [
        {"role": "system", "content": "Keep it short.\nUse lists."},
        *[
            m
            for i in range(5)
            for m in (
                {"role": "user", "content": f" turn {i}: tell me fact #{i} \n"},
                {"role": "assistant", "content": f"Fact {i}: ünïcødé ✓ \"quoted\" {{braces}} {i}"},
            )
        ],
        {"role": "user", "content": "Thanks — last one?"},
    ],
    "empty-system": [{"role": "system", "content": ""}, {"role": "user", "content": "Hello"}],
}
TEMPLATED = [f.id for f in list_formats() if f.chat_template]


def test_registry_lists_the_family_and_generic_formats():
    assert set(format_ids()) >= {
        "memphis", "memphis-cot", "metharme", "cerebrum", "cat-llama3",
        "chatml", "llama3", "alpaca", "vicuna", "mistral", "tokenizer",
    }


def test_unknown_format_is_a_keyerror_listing_valid_ids():
    with pytest.raises(KeyError) as info:
        get_format("pygmalion")
    assert isinstance(info.value, UnknownFormatError)
    assert "pygmalion" in str(info.value) and "metharme" in str(info.value) and "chatml" in str(info.value)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fmt_id", TEMPLATED)
def test_render_matches_golden(fmt_id, shape):
    text = get_format(fmt_id).render(SHAPES[shape], add_generation_prompt=True)
    assert_golden(f"formats/{fmt_id}/{shape}.txt", text)


@pytest.mark.parametrize("gen", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fmt_id", TEMPLATED)
def test_jinja_twin_equals_render_through_transformers(fmt_id, shape, gen):
    fmt = get_format(fmt_id)
    tok = make_tokenizer("<s>", "</s>")
    via_hf = tok.apply_chat_template(SHAPES[shape], chat_template=fmt.chat_template, tokenize=False, add_generation_prompt=gen)
    assert via_hf == fmt.render(SHAPES[shape], add_generation_prompt=gen)


@pytest.mark.parametrize("fmt_id", TEMPLATED)
def test_generation_prompt_is_the_ending(fmt_id):
    fmt = get_format(fmt_id)
    with_gen = fmt.render(SHAPES["user"], add_generation_prompt=True)
    without = fmt.render(SHAPES["user"], add_generation_prompt=False)
    assert with_gen == without + fmt.generation_prompt


METHARME_SYS = (
    "This is a text adventure game. Describe the scenario to the user and give him three options to pick from on each turn."
)
METHARME_REPLY = (
    "You are standing in front of an old, abandoned house. The windows are boarded up, and there's no sign of life "
    "around it. As you approach, you notice a strange feeling emanating from within. Suddenly, you hear a voice calling "
    "out to you... 'Come inside!'\n\n- Go inside the house.\n- Ignore the call and move away.\n- Run as fast as you can."
)
CAT_SYS = (
    "The following is a conversation between an user and a cat having dual degrees in biomedical sciences and quantum "
    "physics. The cat ends every its response with Nyan and does cute actions"
)
CAT_REPLY = (
    "Cat: Nyan! Hello there! How are you? It's always great to meet new friends. My fur is a bit ruffled, but I'm "
    "feeling good today. How about you? Is there anything you'd like to talk about or ask? I'm not the best at answering "
    "questions, but I'll do my best to help out. After all, that's what friends are for, right? Let's chat and have a fun "
    "time together! Nyan!"
)

CARD_EXAMPLES = [
    (
        "metharme",
        [{"role": "system", "content": METHARME_SYS}, {"role": "user", "content": "Start!"}],
        True,
        f"<|system|>{METHARME_SYS}<|user|>Start!<|model|>",
    ),
    (
        "metharme",
        [
            {"role": "system", "content": METHARME_SYS},
            {"role": "user", "content": "Start!"},
            {"role": "assistant", "content": METHARME_REPLY},
            {"role": "user", "content": "go inside"},
        ],
        True,
        f"<|system|>{METHARME_SYS}<|user|>Start!<|model|>{METHARME_REPLY}<|user|>go inside<|model|>",
    ),
    (
        "cerebrum",
        [{"role": "user", "content": "Are you conscious?"}],
        True,
        "<s>A chat between a user and a thinking artificial intelligence assistant. The assistant describes its thought "
        "process and gives helpful and detailed answers to the user's questions.\nUser: Are you conscious?\nAI:",
    ),
    (
        "cat-llama3",
        [
            {"role": "system", "content": CAT_SYS},
            {"role": "user", "content": "Hello!"},
            {"role": "assistant", "content": CAT_REPLY},
        ],
        False,
        # the card's example ends at <|im_end|>; every ChatML turn is followed by a newline
        f"<|begin_of_text|><|im_start|>system\n{CAT_SYS}<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n"
        f"<|im_start|>assistant\n{CAT_REPLY}<|im_end|>\n",
    ),
    (
        "memphis",
        [
            {"role": "system", "content": "[Insert system message here, focused on roleplay]"},
            {"role": "user", "content": "[insert instruction here]"},
            {"role": "assistant", "content": "[insert response here]"},
            {"role": "user", "content": "..."},
        ],
        False,
        "### System:\n[Insert system message here, focused on roleplay]\n### User:\n[insert instruction here]\n"
        "### Assistant:\n[insert response here]\n### User:\n...\n",
    ),
    (
        "memphis-cot",
        [
            {"role": "user", "content": "[insert instruction here]"},
            {"role": "assistant", "content": "[insert reasoning here]\n### Answer:\n[insert direct answer here]"},
        ],
        False,
        "### User:\n[insert instruction here]\n### Rationale:\n[insert reasoning here]\n### Answer:\n[insert direct answer here]\n",
    ),
]


@pytest.mark.parametrize(("fmt_id", "messages", "gen", "expected"), CARD_EXAMPLES, ids=lambda x: x if isinstance(x, str) and len(x) < 20 else None)
def test_card_examples_render_byte_exact(fmt_id, messages, gen, expected):
    assert get_format(fmt_id).render(messages, add_generation_prompt=gen) == expected


def test_cerebrum_card_chat_template_example_strips_eos_from_history():
    fmt = get_format("cerebrum")
    text = fmt.render(
        [
            {"role": "user", "content": "What is chain of thought prompting?"},
            {"role": "assistant", "content": "Chain of thought prompting is a technique.</s>"},
            {"role": "user", "content": "Why does chain of thought prompting work?"},
        ]
    )
    assert "</s>" not in text
    assert text.endswith("\nAI: Chain of thought prompting is a technique.\nUser: Why does chain of thought prompting work?\nAI:")


def test_cerebrum_system_message_replaces_the_preamble():
    text = get_format("cerebrum").render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert text == "<s>Be brief.\nUser: Hi\nAI:"


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "empty-system"])
def test_llama3_is_identical_to_metas_template(shape):
    official = (TEMPLATES / "llama3-instruct.jinja").read_text()
    tok = make_tokenizer("<|begin_of_text|>", "<|eot_id|>", ("<|start_header_id|>", "<|end_header_id|>"))
    for gen in (True, False):
        expected = tok.apply_chat_template(SHAPES[shape], chat_template=official, tokenize=False, add_generation_prompt=gen)
        assert get_format("llama3").render(SHAPES[shape], add_generation_prompt=gen) == expected


@pytest.mark.parametrize("shape", ["user", "user-assistant-user"])
def test_mistral_is_identical_to_mistrals_template(shape):
    official = (TEMPLATES / "mistral-7b-instruct-v0.1.jinja").read_text()
    tok = make_tokenizer("<s>", "</s>")
    expected = tok.apply_chat_template(SHAPES[shape], chat_template=official, tokenize=False)
    assert get_format("mistral").render(SHAPES[shape], add_generation_prompt=False) == expected


def test_mistral_puts_the_system_message_before_the_first_user_message():
    text = get_format("mistral").render(SHAPES["system-user-assistant-user"])
    assert text == f"<s>[INST] {SYS}\n\nName a colour. [/INST]Blue.</s></s>[INST] Another one, please. [/INST]"


def test_chatml_has_no_bos_and_no_default_system():
    assert get_format("chatml").render(SHAPES["user"]) == "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"role": "robot", "content": "x"}], "unknown role 'robot'"),
        ([{"role": "user"}], "has no content"),
        ([{"role": "user", "content": None}], "has no content"),
        ([{"role": "user", "content": 3}], "content must be a string"),
        ([{"role": "user", "content": "a"}, {"role": "system", "content": "s"}], "may only come first"),
        (["just text"], "must be an object"),
        ("a string", "must be a list"),
    ],
)
@pytest.mark.parametrize("fmt_id", ["memphis", "metharme", "chatml"])
def test_bad_messages_raise_errors_that_name_the_problem(fmt_id, messages, error):
    with pytest.raises(MessageError, match=error):
        get_format(fmt_id).render(messages)


def test_mistral_requires_alternating_turns_in_python_and_jinja():
    msgs = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    with pytest.raises(MessageError, match="alternate"):
        get_format("mistral").render(msgs)
    tok = make_tokenizer("<s>", "</s>")
    with pytest.raises(Exception, match="alternate"):
        tok.apply_chat_template(msgs, chat_template=get_format("mistral").chat_template, tokenize=False)


def test_tokenizer_format_needs_a_tokenizer_and_then_uses_its_template():
    with pytest.raises(MessageError, match="tokenizer"):
        get_format("tokenizer").render(SHAPES["user"])
    tok = make_tokenizer(None, "<|im_end|>", ("<|im_start|>",))
    tok.chat_template = get_format("chatml").chat_template
    bound = format_from_tokenizer(tok)
    assert bound.render(SHAPES["user"]) == get_format("chatml").render(SHAPES["user"])
    assert bound.chat_template == tok.chat_template


@pytest.mark.parametrize(
    ("completion", "rationale", "answer"),
    [
        ("2 and 2 make 4.\n### Answer:\n4", "2 and 2 make 4.", "4"),
        ("2 and 2 make 4.\n### Answer:\n4\n", "2 and 2 make 4.", "4"),
        ("still thinking", "still thinking", ""),
    ],
)
def test_memphis_cot_splits_rationale_and_answer(completion, rationale, answer):
    assert get_format("memphis-cot").split_answer(completion) == (rationale, answer)


def test_formats_without_answer_marker_return_the_whole_text():
    assert get_format("memphis").split_answer("hello") == (None, "hello")


@pytest.mark.parametrize("fmt_id", TEMPLATED)
def test_every_format_declares_stop_strings_that_are_its_turn_markers(fmt_id):
    fmt = get_format(fmt_id)
    assert fmt.stop_strings
    rendered = fmt.render(SHAPES["user-assistant-user"], add_generation_prompt=False)
    assert any(stop in rendered for stop in fmt.stop_strings), "a stop string must occur where a new turn begins"


@pytest.mark.parametrize("fmt_id", TEMPLATED)
def test_a_completion_put_back_in_history_renders_exactly_what_the_model_saw(fmt_id):
    fmt = get_format(fmt_id)
    prefix, suffix = fmt.assistant.split("{content}")
    lead = prefix[len(fmt.generation_prompt):] if prefix.startswith(fmt.generation_prompt) else ""
    completion = lead + "Hello there." + suffix  # what a model trained on the format emits
    msgs = SHAPES["user-assistant-user"]
    history = [*msgs, {"role": "assistant", "content": fmt.as_history(completion)}]
    assert fmt.as_history(completion) == "Hello there."
    assert fmt.render(history, add_generation_prompt=False) == fmt.render(msgs) + completion


def test_cerebrum_history_drops_the_space_the_model_writes_after_ai():
    assert get_format("cerebrum").as_history(" Cats like fish.") == "Cats like fish."
    assert get_format("memphis").as_history("Hi.\n") == "Hi."

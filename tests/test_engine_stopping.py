"""StopMatcher: stop strings matched as text across piece boundaries; CancelCriteria."""

from __future__ import annotations

import threading

import pytest
import torch

from playground.stopping import CancelCriteria, StopMatcher

TEXT = "Hello there.\n### User:\nmore text"
STOPS = ("### User:", "\nUser:")


def _run(pieces: list[str], stops=STOPS) -> tuple[list[str], StopMatcher]:
    m = StopMatcher(stops)
    out = [m.feed(p) for p in pieces]
    out.append(m.flush())
    return out, m


def _splits(text: str, every: int) -> list[str]:
    return [text[i : i + every] for i in range(0, len(text), every)]


@pytest.mark.parametrize("every", [1, 2, 3, 5, 7, 11, 100])
def test_stop_string_split_across_pieces_is_trimmed(every):
    out, m = _run(_splits(TEXT, every))
    assert "".join(out) == "Hello there.\n"
    assert m.stopped and m.matched == "### User:"


@pytest.mark.parametrize("cut", range(1, len("### User:")))
def test_every_split_point_inside_the_stop_string(cut):
    stop = "### User:"
    out, m = _run(["abc " + stop[:cut], stop[cut:] + " after"], (stop,))
    assert "".join(out) == "abc "
    assert m.stopped


def test_partial_match_is_held_back_until_resolved():
    m = StopMatcher(["### User:"])
    assert m.feed("answer #") == "answer "  # '#' might start the stop string
    assert m.pending == "#"
    assert m.feed("## Us") == ""  # still a prefix
    assert m.feed("x") == "### Usx"  # 'x' breaks it: release everything
    assert not m.stopped


def test_held_back_tail_is_released_by_flush():
    m = StopMatcher(["### User:"])
    assert m.feed("the end ###") == "the end "
    assert m.flush() == "###"
    assert not m.stopped


def test_nothing_after_a_stop_and_flush_is_empty():
    m = StopMatcher(["STOP"])
    assert m.feed("aSTOPb") == "a"
    assert m.feed("more") == ""
    assert m.flush() == ""


@pytest.mark.parametrize(
    ("stops", "text", "expected", "matched"),
    [
        (("B", "AB"), "xxAB", "xx", "AB"),  # the earliest occurrence wins
        (("<|im_end|>", "<|im_start|>"), "hi<|im_start|>x<|im_end|>", "hi", "<|im_start|>"),
        (("\nUser:",), "line\nUser: hi", "line", "\nUser:"),
        ((), "no stops at all ###", "no stops at all ###", None),
        (("", "END"), "xEND", "x", "END"),  # empty stop strings are ignored
    ],
)
def test_stop_tables(stops, text, expected, matched):
    out, m = _run(list(text), stops)
    assert "".join(out) == expected
    assert m.matched == matched


def test_unicode_text_is_matched_by_characters():
    out, m = _run(["Grüße 🙂", "🙂 ende"], ("🙂🙂",))
    assert "".join(out) == "Grüße "
    assert m.stopped


def test_cancel_criteria_follows_its_events():
    cancel, halt = threading.Event(), threading.Event()
    crit = CancelCriteria(cancel, halt)
    ids = torch.zeros((2, 3), dtype=torch.long)
    assert crit(ids, None).tolist() == [False, False]
    halt.set()
    assert crit(ids, None).tolist() == [True, True]
    assert crit(ids, None).dtype == torch.bool


def test_cancel_criteria_needs_an_event():
    with pytest.raises(ValueError):
        CancelCriteria()

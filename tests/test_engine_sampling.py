"""SamplingOptions: every bound of every field, presets, sliders, GenerationConfig conversion."""

from __future__ import annotations

import logging
import warnings

import pytest
from pydantic import ValidationError

from playground.errors import OptionsError, UnknownIdError
from playground.sampling import (
    MAX_SEED,
    PRESETS,
    SamplingOptions,
    _bound_details,
    bounds,
    describe_range,
    get_preset,
    slider_specs,
)

NUMERIC = ["temperature", "top_p", "top_k", "min_p", "typical_p", "repetition_penalty", "no_repeat_ngram_size", "max_new_tokens", "seed"]

# (field, low, low exclusive?, high): the documented range of every numeric option.
RANGES = [
    ("temperature", 0.0, False, 2.0),
    ("top_p", 0.0, True, 1.0),
    ("top_k", 0, False, 1000),
    ("min_p", 0.0, False, 1.0),
    ("typical_p", 0.0, True, 1.0),
    ("repetition_penalty", 0.5, False, 2.0),
    ("no_repeat_ngram_size", 0, False, 20),
    ("max_new_tokens", 1, False, 4096),
    ("seed", 0, False, MAX_SEED),
]


def _is_int(field: str) -> bool:
    return field in ("top_k", "no_repeat_ngram_size", "max_new_tokens", "seed")


def test_the_range_table_covers_every_numeric_field():
    assert sorted(f for f, *_ in RANGES) == sorted(NUMERIC)
    for field, lo, lo_ex, hi in RANGES:
        assert _bound_details(field) == (lo, lo_ex, hi, False)
        assert bounds(field) == (lo, hi)


@pytest.mark.parametrize(("field", "lo", "lo_ex", "hi"), RANGES)
def test_bounds_inclusive_values_are_accepted(field, lo, lo_ex, hi):
    step = 1 if _is_int(field) else 0.01
    low_ok = lo + step if lo_ex else lo
    assert getattr(SamplingOptions.parse({field: low_ok}), field) == low_ok
    assert getattr(SamplingOptions.parse({field: hi}), field) == hi


OUT_OF_RANGE = [
    (field, side, lo, hi)
    for field, lo, lo_ex, hi in RANGES
    for side in ("below", "above", *(("at-exclusive",) if lo_ex else ()))
]


@pytest.mark.parametrize(("field", "side", "lo", "hi"), OUT_OF_RANGE)
def test_out_of_range_values_name_the_field_and_range(field, side, lo, hi):
    step = 1 if _is_int(field) else 0.001
    value = {"below": lo - step, "above": hi + step, "at-exclusive": lo}[side]
    with pytest.raises(OptionsError) as info:
        SamplingOptions.parse({field: value})
    err = info.value
    assert err.field == field
    assert str(err).startswith(f"{field}: must be ")
    assert str(hi) in str(err) and str(lo) in str(err)
    assert describe_range(field) in str(err)


@pytest.mark.parametrize("field", NUMERIC)
@pytest.mark.parametrize("value", ["abc", True, [1], float("nan")])
def test_wrong_types_are_rejected_with_the_field_name(field, value):
    with pytest.raises(OptionsError) as info:
        SamplingOptions.parse({field: value})
    assert info.value.field == field


@pytest.mark.parametrize("field", ["top_k", "no_repeat_ngram_size", "max_new_tokens", "seed"])
def test_integers_reject_fractions(field):
    with pytest.raises(OptionsError, match="an integer"):
        SamplingOptions.parse({field: 1.5})


def test_form_strings_are_coerced():
    opts = SamplingOptions.parse({"temperature": "0.5", "top_k": "40"})
    assert (opts.temperature, opts.top_k) == (0.5, 40)


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(OptionsError, match="valid options are temperature"):
        SamplingOptions.parse({"temprature": 0.5})


@pytest.mark.parametrize(
    ("stop", "ok"),
    [
        ((), True),
        (("###",), True),
        (tuple(f"s{i}" for i in range(16)), True),
        (tuple(f"s{i}" for i in range(17)), False),  # at most 16
        (("",), False),  # empty
        (("x" * 200,), True),
        (("x" * 201,), False),  # at most 200 characters
        ("###", False),  # a bare string is not a list of strings
    ],
)
def test_stop_strings_bounds(stop, ok):
    if ok:
        assert SamplingOptions.parse({"stop": stop}).stop == tuple(stop)
    else:
        with pytest.raises(OptionsError) as info:
            SamplingOptions.parse({"stop": stop})
        assert info.value.field.startswith("stop")


def test_seed_none_means_pick_one_later():
    assert SamplingOptions.parse({"seed": None}).seed is None


def test_options_are_frozen_and_with_validates():
    opts = SamplingOptions()
    with pytest.raises(ValidationError, match="frozen"):
        opts.temperature = 1.0  # type: ignore[misc]
    assert opts.with_(temperature=0.0).greedy
    with pytest.raises(OptionsError):
        opts.with_(top_p=2.0)


def test_every_preset_is_valid_and_card_presets_match_the_cards():
    for preset in PRESETS.values():
        preset.options()  # validates
    assert get_preset("cerebrum").options().temperature == 0.0
    memphis = get_preset("memphis-cot").options()
    assert (memphis.temperature, memphis.top_p) == (0.5, 0.8)
    assert {"precise", "balanced", "creative"} <= set(PRESETS)
    with pytest.raises(UnknownIdError, match="valid preset ids"):
        get_preset("nope")


def test_slider_specs_are_valid_values():
    specs = {s.name: s for s in slider_specs()}
    assert set(specs) == set(NUMERIC) - {"seed"}
    for s in specs.values():
        assert s.help and s.step > 0 and s.minimum < s.maximum
        SamplingOptions.parse({s.name: int(s.minimum) if s.integer else s.minimum})
        SamplingOptions.parse({s.name: int(s.maximum) if s.integer else s.maximum})
        SamplingOptions.parse({s.name: s.default})
        assert s.integer == _is_int(s.name)


def _config_warnings(kwargs) -> list[str]:
    from transformers import GenerationConfig

    caught: list[str] = []

    class _Grab(logging.Handler):
        def emit(self, record):
            caught.append(record.getMessage())

    handler = _Grab()
    log = logging.getLogger("transformers")
    log.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cfg = GenerationConfig(**kwargs)
            cfg.validate(strict=False)
        caught += [str(x.message) for x in w]
    finally:
        log.removeHandler(handler)
    return caught


@pytest.mark.parametrize(
    "values",
    [
        {"temperature": 0.0},
        {"temperature": 0.0, "repetition_penalty": 1.2, "no_repeat_ngram_size": 3},
        {"temperature": 0.7, "top_p": 0.9, "top_k": 40},
        {"temperature": 1.0, "min_p": 0.05, "typical_p": 0.9},
        *[p.values for p in PRESETS.values()],
    ],
)
def test_generation_config_has_no_unused_flag_warnings(values):
    kwargs = SamplingOptions.parse(values).generation_kwargs()
    assert _config_warnings(kwargs) == []
    assert kwargs["do_sample"] is (values.get("temperature", 0.7) != 0.0)


def test_greedy_drops_sampling_flags():
    kwargs = SamplingOptions.parse({"temperature": 0, "top_p": 0.5, "top_k": 5}).generation_kwargs()
    assert kwargs["do_sample"] is False
    assert all(kwargs[k] is None for k in ("temperature", "top_p", "top_k", "min_p", "typical_p"))

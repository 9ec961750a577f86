"""Pure helpers that shape catalog entries, options and prompts for the Playground tab (no gradio).

Everything here takes plain values and returns strings, lists or dicts, so it is tested without a
browser; ``playground_tab`` only wires these to components.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from playground.catalog import ModelSpec
from playground.errors import OptionsError
from playground.formats import list_formats
from playground.sampling import MAX_SEED, PRESETS, SamplingOptions, get_preset, slider_specs

MAX_COLUMNS = 4
AUTO_FORMAT = "auto"
NO_PRESET = "(none)"


def fmt_params(params_b: float | None) -> str:
    """'7.2B', '350M', '500K' or 'unknown' for a parameter count in billions."""
    if params_b is None:
        return "unknown"
    for scale, unit in ((1.0, "B"), (1e-3, "M"), (1e-6, "K")):
        if params_b >= scale:
            value = params_b / scale
            return f"{value:.3g}{unit}"
    return f"{params_b * 1e9:.0f}"


def availability(spec: ModelSpec, has_gpu: bool) -> str | None:
    """Why a model may not run here (None when it should): real weights need the Hub and a GPU."""
    if spec.demo or spec.is_remote or spec.path:
        return None
    needs = [] if has_gpu else ["a CUDA GPU (4-bit NF4)"]
    return "needs network access to the Hugging Face Hub" + (f" and {needs[0]}" if needs else "") + " to download its weights"


def model_choices(specs: Sequence[ModelSpec], has_gpu: bool) -> list[tuple[str, str]]:
    """(label, id) pairs for the model picker: demo models first and labelled, real ones say what they need."""
    ordered = sorted(specs, key=lambda s: not s.demo)
    out = []
    for spec in ordered:
        label = spec.label
        if spec.is_remote:
            label += " · remote"
        elif availability(spec, has_gpu):
            label += " · needs network" + ("" if has_gpu else " + GPU")
        out.append((label, spec.id))
    return out


def default_selection(specs: Sequence[ModelSpec], count: int = 2) -> list[str]:
    """The models selected on first load: the first demo models (else the first catalog entries)."""
    demos = [s.id for s in specs if s.demo]
    return (demos or [s.id for s in specs])[:count]


def badges(spec: ModelSpec) -> list[str]:
    """Short badges for a column header."""
    out = []
    if spec.demo:
        out.append("demo")
    if spec.is_remote:
        out.append("remote")
    return out


def header_html(spec: ModelSpec, quantization: str, has_gpu: bool) -> str:
    """The column header: name, badges, format, quantization, parameters, license, description."""
    esc = html.escape
    tags = "".join(f'<span class="lu-badge lu-badge-{b}">{b}</span>' for b in badges(spec))
    fmt = spec.format or "detect from tokenizer"
    facts = " · ".join(
        [f"format <code>{esc(fmt)}</code>", f"quant <code>{esc(quantization)}</code>",
         f"{esc(fmt_params(spec.params_b))} params", f"license {esc(spec.license)}",
         f"ctx {spec.context_length:,}"]
    )
    note = availability(spec, has_gpu)
    warn = f'<div class="lu-avail">⚠️ {esc(note)}</div>' if note else ""
    return (
        f'<div class="lu-head"><div class="lu-title">{esc(spec.label)} {tags}</div>'
        f'<div class="lu-facts">{facts}</div><div class="lu-desc">{esc(spec.description)}</div>{warn}</div>'
    )


def format_choices(spec: ModelSpec) -> list[tuple[str, str]]:
    """(label, value) pairs for a column's format override: 'auto' (what the catalog says) then every format."""
    auto = f"auto ({spec.format})" if spec.format else "auto (detect from tokenizer)"
    return [(auto, AUTO_FORMAT), *((f"{f.id} — {f.label}", f.id) for f in list_formats())]


def format_badge(source: str | None, format_id: str | None, warning: str | None) -> str:
    """A one-line HTML badge for the format in use: plain when from the catalog, a warning when guessed."""
    esc = html.escape
    if format_id is None:
        return f'<span class="lu-badge lu-badge-warn">format unknown</span> <span class="lu-muted">{esc(warning or "")}</span>'
    if warning:
        return f'<span class="lu-badge lu-badge-warn" title="{esc(warning)}">⚠ {esc(format_id)} · {esc(source or "guessed")}</span> <span class="lu-muted">{esc(warning)}</span>'
    return f'<span class="lu-badge lu-badge-ok">{esc(format_id)}</span> <span class="lu-muted">from {esc(source or "catalog")}</span>'


def preset_choices(specs: Sequence[ModelSpec] = ()) -> list[tuple[str, str]]:
    """(label, id) pairs: presets named by the selected models' cards first, then the general ones."""
    card_ids = [s.preset for s in specs if s.preset in PRESETS]
    ordered = list(dict.fromkeys([*card_ids, *PRESETS]))
    out = [(NO_PRESET, NO_PRESET)]
    for pid in ordered:
        preset = PRESETS[pid]
        users = [s.label for s in specs if s.preset == pid]
        suffix = f" — card of {', '.join(users)}" if users else ""
        out.append((preset.label + suffix, pid))
    return out


def preset_values(preset_id: str | None) -> dict[str, Any]:
    """The slider values a preset sets (defaults for fields it does not name); {} for no preset."""
    if not preset_id or preset_id == NO_PRESET:
        return {}
    opts = get_preset(preset_id).options()
    return {s.name: getattr(opts, s.name) for s in slider_specs()}


def parse_stop(text: str | None) -> tuple[str, ...]:
    """Extra stop strings from the text box: one per line, escapes like \\n understood."""
    out = []
    for line in (text or "").splitlines():
        if not line:
            continue
        try:
            out.append(json.loads(f'"{line}"'))
        except ValueError:
            out.append(line)
    return tuple(out)


def parse_seed(seed: Any) -> int | None:
    """A seed from a form field: empty means None; otherwise an integer in range (OptionsError if not)."""
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return None
    try:
        value = float(seed)
    except (TypeError, ValueError):
        raise OptionsError("seed", f"must be an integer from 0 to {MAX_SEED}, got {seed!r}") from None
    if not value.is_integer():
        raise OptionsError("seed", f"must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return int(value)


def options_from_form(values: Mapping[str, Any], seed: Any = None, stop_text: str | None = None) -> SamplingOptions:
    """Validate the sampling form into SamplingOptions.

    Args:
        values: slider values by option name (integers may arrive as floats from a slider).
        seed: the seed field (empty: the engine picks one per run and records it).
        stop_text: extra stop strings, one per line.

    Returns:
        SamplingOptions; raises OptionsError naming the field and its allowed range.
    """
    data: dict[str, Any] = {}
    for spec in slider_specs():
        if spec.name not in values or values[spec.name] is None:
            continue
        v = values[spec.name]
        if spec.integer and isinstance(v, float) and v.is_integer():
            v = int(v)
        data[spec.name] = v
    data["seed"] = parse_seed(seed)
    data["stop"] = parse_stop(stop_text)
    return SamplingOptions.parse(data)


def options_error_html(err: OptionsError) -> str:
    """The message shown next to the sampling controls for an invalid setting."""
    return f'<div class="lu-error">⚠️ <b>{html.escape(err.field)}</b>: {html.escape(err.problem)}</div>'


def raw_prompt_markdown(prompt: str, token_ids: Sequence[int] | None, bos_count: int | None, lint: Sequence[str], escaped: Sequence[str] = ()) -> str:
    """The 'Raw prompt' view: exact prompt text, token ids, BOS count and lint warnings."""
    fence = "````"
    lines = [f"**Exact prompt** ({len(prompt):,} characters)", f"{fence}text\n{prompt}\n{fence}"]
    if token_ids is not None:
        lines.append(f"**Token ids** ({len(token_ids):,} tokens, BOS count **{bos_count}**)")
        lines.append(f"{fence}\n{' '.join(map(str, token_ids))}\n{fence}")
    if escaped:
        lines.append("**Escaped** (typed by the user, encoded as plain text): " + ", ".join(f"`{t}`" for t in escaped))
    if lint:
        lines.append("**Lint**\n" + "\n".join(f"- {'ℹ️' if w.startswith('info:') else '⚠️'} {html.escape(w)}" for w in lint))
    else:
        lines.append("**Lint:** no warnings ✓")
    return "\n\n".join(lines)


def metrics_html(view: Any | None) -> str:
    """A column's live line: a progress bar while loading, then TTFT, tokens/s, tokens and the stop reason.

    Args:
        view: the column's ColumnView (None: nothing has run yet).

    Returns:
        HTML (every engine-supplied text escaped).
    """
    esc = html.escape
    if view is None:
        return '<div class="lu-metrics lu-muted">no output yet</div>'
    if view.error:
        return f'<div class="lu-metrics lu-error">⚠️ {esc(view.error)}</div>'
    chips = []
    if view.status and not view.done:
        bar = ""
        if view.progress is not None:
            bar = f'<div class="lu-progress"><div style="width:{max(0.0, min(1.0, view.progress)) * 100:.0f}%"></div></div>'
        chips.append(f'<span class="lu-status">⏳ {esc(view.status)}</span>{bar}')
    if view.ttft_s is not None:
        chips.append(f'<span class="lu-chip" title="time to first token">TTFT {view.ttft_s:.2f} s</span>')
    if view.tokens_per_s is not None:
        chips.append(f'<span class="lu-chip" title="decode rate after the first token">{view.tokens_per_s:.1f} tok/s</span>')
    if view.generated_tokens or view.done:
        chips.append(f'<span class="lu-chip">{view.generated_tokens} tokens</span>')
    if view.stop_reason:
        chips.append(f'<span class="lu-chip lu-stop-{esc(view.stop_reason)}" title="stop reason">stop: {esc(view.stop_reason)}</span>')
    elif not view.done and not view.status:
        chips.append('<span class="lu-chip lu-live">generating…</span>')
    if view.seed is not None:
        chips.append(f'<span class="lu-chip lu-seed" title="sampling seed (recorded in the export)">seed {view.seed}</span>')
    if view.notice:
        chips.append(f'<div class="lu-notice">ℹ️ {esc(view.notice)}</div>')
    return f'<div class="lu-metrics">{" ".join(chips)}</div>'


def status_html(text: str, note: str | None = None) -> str:
    """The status line under the model picker: resident models, memory, whether the selection fits.

    Args:
        text: the pool's status (Playground.status).
        note: a line shown first (a replay's outcome, an import error).
    """
    cls = "lu-statusline lu-warn" if "one after another" in text else "lu-statusline"
    head = f'<div class="lu-note">{html.escape(note)}</div>' if note else ""
    return f'<div class="{cls}">{head}<b>Memory</b> — {html.escape(text)}</div>'

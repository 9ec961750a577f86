"""Named API endpoints of the Playground (for gradio_client), and the optional ZeroGPU wrapper.

Endpoints: ``/generate`` (side by side, streaming), ``/render`` (a format's exact prompt),
``/formats``, ``/models`` and ``/stop`` (cancels this client session's generations).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from playground.catalog import get_model, list_models
from playground.errors import LineupError, OptionsError
from playground.formats import get_format, list_formats, normalize_messages
from playground.sampling import SamplingOptions
from ui.playground_controller import Playground, check_selection
from ui.playground_runner import ColumnSetup
from ui.playground_view import AUTO_FORMAT, availability, raw_prompt_markdown

GPU_DURATION_S = 120


def gpu(fn: Callable) -> Callable:
    """Run fn under ``spaces.GPU`` when the spaces package is importable (ZeroGPU Spaces); else unchanged."""
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return fn
    return functools.wraps(fn)(spaces.GPU(duration=GPU_DURATION_S)(fn))


def user_error(exc: LineupError) -> gr.Error:
    """The gr.Error a client sees for a typed error (invalid settings name the field and range)."""
    if isinstance(exc, OptionsError):
        return gr.Error(f"invalid option {exc.field}: {exc.problem}", print_exception=False)
    return gr.Error(str(exc), print_exception=False)


def _payload(turn: Any, done: bool) -> dict[str, Any]:
    """What /generate yields: every column's text, metrics, stop reason and error; the record when done."""
    out: dict[str, Any] = {"done": done, "columns": [turn.views[p.slot].to_dict() for p in turn.plans]}
    if done:
        # as JSON text: gradio_client would take the record's {"path": ...} entries for files to download
        out["replay_json"] = turn.record.to_json(indent=None) if turn.record is not None else None
    return out


def register_api(pg: Playground, concurrency_limit: int | None, group: str) -> None:
    """Add the named endpoints to the Blocks being built.

    Args:
        pg: the Playground controller.
        concurrency_limit: how many generations run at once (shared with the page's Send).
        group: the concurrency id shared with the page's generation events.
    """

    def generate(
        models: list[str],
        message: str,
        system: str = "",
        options: dict | None = None,
        same_seed: bool = True,
        formats: list[str] | None = None,
        history: list[dict] | None = None,
        ignore_eos: bool = False,
        request: gr.Request = None,
    ) -> dict:
        """Side-by-side generation: stream every column; the last update has done=true and replay_json.

        models: 1-4 catalog ids; options: sampling options by name (temperature, top_p, top_k, min_p,
        typical_p, repetition_penalty, no_repeat_ngram_size, max_new_tokens, seed, stop); formats: a
        format id per column ('' or 'auto' for the catalog's); history: earlier user/assistant turns;
        ignore_eos: local columns always generate max_new_tokens (throughput tests).
        """
        try:
            ids = check_selection(models)
            opts = SamplingOptions.parse(options or {})
            turns = normalize_messages(history or [])
            if any(t["role"] == "system" for t in turns):
                raise LineupError("history holds user/assistant turns only; pass the system prompt as system")
            overrides = list(formats or [])
            if len(overrides) > len(ids):
                raise LineupError(f"formats has {len(overrides)} entries for {len(ids)} models")
            overrides += [""] * (len(ids) - len(overrides))
            setups = [ColumnSetup(m, None if f in ("", AUTO_FORMAT) else get_format(f).id) for m, f in zip(ids, overrides, strict=True)]
            stream: Iterator = pg.run_turn(session_key(request), setups, {m: turns for m in ids}, system, message, opts, same_seed, ignore_eos)
            turn, frame = next(stream)
        except LineupError as exc:
            raise user_error(exc) from None
        yield _payload(turn, False)
        for turn, frame in stream:
            yield _payload(turn, frame.final)

    def render(format_id: str, messages: list[dict], model_id: str = "", add_generation_prompt: bool = True) -> dict:
        """The exact prompt a format renders for messages; with model_id, also its token ids, BOS count and lint."""
        try:
            fmt = get_format(format_id)
            prompt = fmt.render(messages, add_generation_prompt=add_generation_prompt)
            out: dict[str, Any] = {"format_id": fmt.id, "prompt": prompt, "template_hash": fmt.template_hash}
            if model_id:
                from playground.formats.encode import encode_messages, leading_bos_count
                from playground.formats.lint import lint_lines

                tok = pg.tokenizers.get(get_model(model_id))
                if tok is None:
                    raise LineupError(f"the tokenizer of {model_id!r} is not available here (load the model first)")
                _, ids, escaped = encode_messages(fmt, messages, tok, add_generation_prompt=add_generation_prompt)
                lint = lint_lines(prompt, tok, fmt, ids)
                out |= {"model_id": model_id, "token_ids": ids, "bos_count": leading_bos_count(ids, tok), "lint": lint}
                out["escaped"] = escaped
                out["markdown"] = raw_prompt_markdown(prompt, ids, out["bos_count"], lint, escaped)
            return out
        except LineupError as exc:
            raise user_error(exc) from None

    def formats() -> list[dict]:
        """Every registered prompt format: id, label, description, source, stop strings, template hash."""
        return [
            {"id": f.id, "label": f.label, "description": f.description, "source": f.source, "stop_strings": list(f.stop_strings), "template_hash": f.template_hash}
            for f in list_formats()
        ]

    def models() -> list[dict]:
        """The model catalog as the Playground lists it."""
        has_gpu = pg.pool.device.startswith("cuda")
        return [
            {"id": s.id, "label": s.label, "format": s.format, "params_b": s.params_b, "license": s.license, "context_length": s.context_length,
             "description": s.description, "demo": s.demo, "remote": s.is_remote, "availability": availability(s, has_gpu)}
            for s in list_models()
        ]

    def stop(request: gr.Request = None) -> dict:
        """Stop every generation of this client session (each column ends within a decoding step)."""
        return {"stopped": pg.stop(session_key(request))}

    gr.api(gpu(generate), api_name="generate", concurrency_limit=concurrency_limit, concurrency_id=group)
    gr.api(render, api_name="render")
    gr.api(formats, api_name="formats")
    gr.api(models, api_name="models")
    gr.api(stop, api_name="stop", queue=False)


def session_key(request: gr.Request | None) -> str:
    """The cancel-registry key of a request: its Gradio session (one per page load or client)."""
    return (request.session_hash if request is not None else None) or "anonymous"

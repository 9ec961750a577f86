"""The Playground tab: side-by-side chat over the engine (layout and wiring; handlers are thin adapters).

Send is ONE queued event whose generator merges every column's stream (the engine's side-by-side
iterator, throttled by ui.chat_adapter.frames). Stop sets this session's cancel flags (the engine
ends each column within a decoding step), waits briefly for the final frame, then cancels the
event as a backstop. Per-session data lives in a gr.State; nothing per request is module-level.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from playground.catalog import get_model
from playground.errors import LineupError, OptionsError
from playground.formats import get_format
from playground.loading import QUANTIZATIONS
from playground.sampling import slider_specs
from ui import playground_view as pv
from ui.chat_adapter import chat_messages
from ui.playground_api import gpu, register_api
from ui.playground_controller import Playground, Turn, check_selection, commit, drop_last_turn
from ui.playground_export import read_record, record_markdown, replay_summary
from ui.playground_runner import ColumnSetup
from ui.playground_style import CSS

log = logging.getLogger("lineup.ui")
GENERATE_GROUP = "lineup-generate"
__all__ = ["CSS", "build"]


@dataclass
class Slot:
    """The components of one column slot (built once; shown or hidden with the selection)."""

    column: Any
    header: Any
    fmt: Any
    badge: Any
    chat: Any
    metrics: Any
    raw: Any


def _empty_state() -> dict[str, Any]:
    return {"histories": {}, "last_user": None}


def _session(request: gr.Request | None) -> str:
    return (request.session_hash if request is not None else None) or "anonymous"


def _split_for(format_id: str | None):
    """The rationale splitter of a format with an answer marker (Memphis-CoT), else None."""
    if not format_id:
        return None
    try:
        fmt = get_format(format_id)
    except LineupError:
        return None
    return fmt.split_answer if fmt.answer_marker else None


def build(settings) -> None:
    """Build the Playground tab inside the current Blocks/Tab context.

    Args:
        settings: the AppSettings (model dirs, concurrency limit).
    """
    pg = Playground(allowed_dirs=settings.model_dirs)
    specs = pg.specs()
    has_gpu = pg.pool.device.startswith("cuda")
    selected = pv.default_selection(specs)
    export_dir = Path(tempfile.mkdtemp(prefix="lineup-exports-"))

    def slot_updates(ids: list[str], quant: str, histories: dict) -> dict:
        """Show/hide the slots and fill their headers for a selection."""
        out = {}
        for i, slot in enumerate(slots):
            if i < len(ids):
                spec = get_model(ids[i])
                out[slot.column] = gr.Column(visible=True)
                out[slot.header] = pv.header_html(spec, _resolved(quant), has_gpu)
                out[slot.fmt] = gr.Dropdown(choices=pv.format_choices(spec), value=pv.AUTO_FORMAT)
                out[slot.badge] = _auto_badge(spec)
                out[slot.chat] = chat_messages(histories.get(spec.id, []), _split_for(spec.format))
                out[slot.metrics] = pv.metrics_html(None)
            else:
                out[slot.column] = gr.Column(visible=False)
        return out

    def _resolved(quant: str) -> str:
        from playground.loading import resolve_quantization

        try:
            return resolve_quantization(quant, pg.pool.device)
        except LineupError:
            return quant

    def _auto_badge(spec) -> str:
        if spec.format:
            return pv.format_badge("catalog", spec.format, None)
        return pv.format_badge("tokenizer", "detect", "the format is detected from the tokenizer when you send")

    # ---- layout ------------------------------------------------------------------------------
    with gr.Row(equal_height=True):
        models = gr.Dropdown(
            choices=pv.model_choices(specs, has_gpu), value=selected, multiselect=True, max_choices=pv.MAX_COLUMNS,
            label="Models (1–4)", info="Demo models run anywhere; the real family needs network access and a GPU.",
            elem_id="lu-models", scale=4,
        )
        quant = gr.Dropdown(choices=list(QUANTIZATIONS), value="auto", label="Quantization", info="auto: nf4 on GPU, fp32 on CPU", elem_id="lu-quant", scale=1)
    status = gr.HTML(pv.status_html(pg.status(selected)), elem_id="lu-status")
    system = gr.Textbox(label="System prompt", placeholder="Optional; kept for every turn", lines=1, max_lines=6, elem_id="lu-system")
    with gr.Accordion("Sampling", open=False, elem_id="lu-sampling") as sampling:
        with gr.Row():
            preset = gr.Dropdown(choices=pv.preset_choices([s for s in specs if s.id in selected]), value=pv.NO_PRESET, label="Preset", info="From the models' cards, or general", elem_id="lu-preset")
            seed = gr.Textbox(label="Seed", placeholder="random (recorded in the export)", elem_id="lu-seed")
            same_seed = gr.Checkbox(value=True, label="Same seed for all columns", elem_id="lu-same-seed")
            stop_text = gr.Textbox(label="Extra stop strings", placeholder="one per line; \\n for a newline", lines=1, max_lines=4, elem_id="lu-stop-strings")
        sliders = []
        specs_list = slider_specs()
        for start in range(0, len(specs_list), 4):
            with gr.Row():
                for s in specs_list[start:start + 4]:
                    sliders.append((s, gr.Slider(s.minimum, s.maximum, value=s.default, step=s.step, label=s.label, info=s.help, elem_id=f"lu-opt-{s.name}")))
        options_error = gr.HTML("", elem_id="lu-options-error")
    slots: list[Slot] = []
    with gr.Row(equal_height=False, elem_id="lu-columns"):
        for i in range(pv.MAX_COLUMNS):
            with gr.Column(visible=i < len(selected), min_width=260, elem_classes=["lu-col"], elem_id=f"lu-col-{i}") as col:
                spec = get_model(selected[i]) if i < len(selected) else None
                header = gr.HTML(pv.header_html(spec, _resolved("auto"), has_gpu) if spec else "", elem_classes=["lu-header"], elem_id=f"lu-header-{i}")
                with gr.Row(equal_height=True):
                    fmt = gr.Dropdown(choices=pv.format_choices(spec) if spec else [], value=pv.AUTO_FORMAT, label="Format", elem_id=f"lu-format-{i}", scale=2, min_width=120)
                    badge = gr.HTML(_auto_badge(spec) if spec else "", elem_classes=["lu-badge-row"], elem_id=f"lu-badge-{i}")
                chat = gr.Chatbot(value=[], height=420, show_label=False, elem_id=f"lu-chat-{i}", elem_classes=["lu-chat"], buttons=["copy"], feedback_options=None, placeholder="Replies stream here.")
                metrics = gr.HTML(pv.metrics_html(None), elem_id=f"lu-metrics-{i}", elem_classes=["lu-metrics-row"])
                with gr.Accordion("Raw prompt", open=False, elem_id=f"lu-raw-acc-{i}", elem_classes=["lu-raw"]):
                    raw = gr.Markdown("Send a message to see the exact prompt, its token ids and lint warnings.", elem_id=f"lu-raw-{i}")
            slots.append(Slot(col, header, fmt, badge, chat, metrics, raw))
    with gr.Row(equal_height=True):
        msg = gr.Textbox(placeholder="Message every column…", show_label=False, lines=1, max_lines=8, scale=6, elem_id="lu-message", submit_btn=False)
        send = gr.Button("Send", variant="primary", scale=1, min_width=90, elem_id="lu-send")
        stop = gr.Button("Stop", variant="stop", scale=1, min_width=90, elem_id="lu-stop")
    with gr.Row(equal_height=True):
        regen = gr.Button("Regenerate", size="sm", elem_id="lu-regenerate")
        clear = gr.Button("Clear", size="sm", elem_id="lu-clear")
        export_json = gr.DownloadButton("Export replay (JSON)", size="sm", interactive=False, elem_id="lu-export-json")
        export_md = gr.DownloadButton("Export Markdown", size="sm", interactive=False, elem_id="lu-export-md")
        importer = gr.UploadButton("Import replay & run", size="sm", file_types=[".json"], type="binary", elem_id="lu-import")
    state = gr.State(_empty_state())

    # ---- handlers ------------------------------------------------------------------------------
    def turn_outputs(turn: Turn, changed, histories: dict, first: bool, final: bool, state_value: dict) -> dict:
        out: dict = {}
        for s in changed:
            plan, view, slot = turn.plans[s], turn.views[s], slots[s]
            out[slot.chat] = chat_messages(histories.get(plan.setup.model_id, []), plan.split, turn.user, view)
            out[slot.metrics] = pv.metrics_html(view)
        if first:
            for plan in turn.plans:
                out[slots[plan.slot].badge] = pv.format_badge(*plan.format_source)
        if first or final:
            for s, info in turn.raw.items():
                out[slots[s].raw] = _raw_md(info)
        if final:
            out[state] = state_value
            out[status] = pv.status_html(pg.status([p.setup.model_id for p in turn.plans]))
            if turn.record is not None:
                stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
                jpath, mpath = export_dir / f"lineup-replay-{stamp}.json", export_dir / f"lineup-comparison-{stamp}.md"
                jpath.write_text(turn.record.to_json(), encoding="utf-8")
                mpath.write_text(record_markdown(turn.record), encoding="utf-8")
                out[export_json] = gr.DownloadButton(value=str(jpath), interactive=True)
                out[export_md] = gr.DownloadButton(value=str(mpath), interactive=True)
            if turn.diffs is not None:
                out[status] = pv.status_html(replay_summary(turn.diffs))
        return out

    def run(data: dict, request: gr.Request, regenerate: bool):
        st = data[state] or _empty_state()
        try:
            ids = check_selection(data[models])
            options = pv.options_from_form({s.name: data[c] for s, c in sliders}, data[seed], data[stop_text])
        except OptionsError as exc:
            gr.Warning(f"Invalid setting — {exc.field}: {exc.problem}")
            yield {options_error: pv.options_error_html(exc), sampling: gr.Accordion(open=True)}
            return
        except LineupError as exc:
            gr.Warning(str(exc))
            yield {options_error: ""}
            return
        user = st.get("last_user") if regenerate else data[msg]
        if not user or not user.strip():
            gr.Warning("Nothing to regenerate yet." if regenerate else "Type a message first.")
            yield {options_error: ""}
            return
        histories = drop_last_turn(st["histories"], ids, user) if regenerate else st["histories"]
        setups = [ColumnSetup(mid, None if data[slots[i].fmt] in (None, pv.AUTO_FORMAT) else data[slots[i].fmt], data[quant]) for i, mid in enumerate(ids)]
        first = True
        try:
            for turn, frame in pg.run_turn(_session(request), setups, histories, data[system], user, options, data[same_seed]):
                new_state = {"histories": commit(histories, turn), "last_user": user} if frame.final else None
                out = turn_outputs(turn, frame.changed, histories, first, frame.final, new_state)
                if first:
                    out[options_error] = ""
                    if not regenerate:
                        out[msg] = ""
                first = False
                yield out
        except LineupError as exc:
            gr.Warning(str(exc))
        except Exception:  # never a traceback on the page: log it, say so briefly
            log.exception("playground turn failed")
            gr.Warning("Something went wrong while generating; the server log has the details.")

    @gpu
    def on_send(data: dict, request: gr.Request):
        yield from run(data, request, regenerate=False)

    @gpu
    def on_regenerate(data: dict, request: gr.Request):
        yield from run(data, request, regenerate=True)

    @gpu
    def on_import(blob: bytes | None, st: dict, request: gr.Request):
        if not blob:
            return
        try:
            record = read_record(blob)
        except LineupError as exc:
            gr.Warning(str(exc))
            yield {status: pv.status_html(f"import failed: {exc}")}
            return
        ids = [c.model_id for c in sorted(record.columns, key=lambda c: c.column)]
        first_msgs = sorted(record.columns, key=lambda c: c.column)[0].messages
        sys_text = first_msgs[0]["content"] if first_msgs and first_msgs[0]["role"] == "system" else ""
        histories = {c.model_id: [m for m in c.messages if m["role"] != "system"][:-1] for c in record.columns}
        head = {models: ids, system: sys_text, **slot_updates(ids, "auto", histories)}
        try:
            for turn, frame in pg.run_record(_session(request), record):
                new_state = {"histories": commit(histories, turn), "last_user": turn.user} if frame.final else None
                out = {**head, **turn_outputs(turn, frame.changed, histories, bool(head), frame.final, new_state)}
                head = {}
                yield out
        except LineupError as exc:
            gr.Warning(str(exc))
            yield {status: pv.status_html(f"replay failed: {exc}")}

    def on_models(ids: list[str], q: str, st: dict):
        ids = (ids or [])[: pv.MAX_COLUMNS]
        picked = [s for s in specs if s.id in ids]
        out = slot_updates(ids, q, (st or _empty_state())["histories"])
        out[preset] = gr.Dropdown(choices=pv.preset_choices(picked))
        out[status] = pv.status_html(pg.status(ids, q))
        return out

    def on_preset(pid: str):
        values = pv.preset_values(pid)
        return {c: values[s.name] for s, c in sliders if s.name in values}

    def on_stop(request: gr.Request):
        pg.stop(_session(request))

    def settle(request: gr.Request):
        deadline = time.monotonic() + 2.0
        while pg.cancels.running(_session(request)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def on_clear(ids: list[str], request: gr.Request):
        pg.stop(_session(request))
        out = {state: _empty_state(), export_json: gr.DownloadButton(value=None, interactive=False), export_md: gr.DownloadButton(value=None, interactive=False), options_error: ""}
        for slot in slots:
            out[slot.chat] = []
            out[slot.metrics] = pv.metrics_html(None)
            out[slot.raw] = "Send a message to see the exact prompt, its token ids and lint warnings."
        out[status] = pv.status_html(pg.status(ids or []))
        return out

    # ---- wiring ------------------------------------------------------------------------------
    form = {models, quant, system, msg, seed, same_seed, stop_text, state, *(c for _, c in sliders), *(s.fmt for s in slots)}
    stream_out = [msg, options_error, sampling, status, state, export_json, export_md, *(c for s in slots for c in (s.chat, s.metrics, s.badge, s.raw))]
    common = {"show_progress": "hidden", "concurrency_id": GENERATE_GROUP, "concurrency_limit": settings.concurrency_limit, "api_visibility": "private"}
    send_ev = gr.on([send.click, msg.submit], on_send, inputs=form, outputs=stream_out, **common)
    regen_ev = regen.click(on_regenerate, inputs=form, outputs=stream_out, **common)
    slot_out = [c for s in slots for c in (s.column, s.header, s.fmt, s.badge, s.chat, s.metrics)]
    import_ev = importer.upload(on_import, inputs=[importer, state], outputs=[*stream_out, models, system, *slot_out], **common)
    running = [send_ev, regen_ev, import_ev]
    stop.click(on_stop, queue=False, api_visibility="private").then(settle, queue=False, api_visibility="private").then(None, cancels=running, api_visibility="private")
    clear.click(on_clear, inputs=[models], outputs=[state, export_json, export_md, options_error, status, *(c for s in slots for c in (s.chat, s.metrics, s.raw))], cancels=running, queue=False, api_visibility="private")
    gr.on([models.input, quant.input], on_models, inputs=[models, quant, state], outputs=[*slot_out, preset, status], api_visibility="private", show_progress="hidden")
    preset.input(on_preset, inputs=[preset], outputs=[c for _, c in sliders], api_visibility="private", show_progress="hidden")
    for slot, i in zip(slots, range(pv.MAX_COLUMNS), strict=True):
        slot.fmt.input(lambda fid, ids, i=i: _format_badge(fid, ids, i), inputs=[slot.fmt, models], outputs=[slot.badge], api_visibility="private", show_progress="hidden")
    register_api(pg, settings.concurrency_limit, GENERATE_GROUP)


def _format_badge(fid: str | None, ids: list[str] | None, i: int) -> str:
    """The badge after a format override was picked (or set back to auto)."""
    if fid and fid != pv.AUTO_FORMAT:
        return pv.format_badge("override", fid, None)
    ids = ids or []
    if i >= len(ids):
        return ""
    spec = get_model(ids[i])
    if spec.format:
        return pv.format_badge("catalog", spec.format, None)
    return pv.format_badge("tokenizer", "detect", "the format is detected from the tokenizer when you send")


def _raw_md(info: dict[str, Any]) -> str:
    """The raw-prompt accordion text from raw_prompt_info()."""
    if not info.get("prompt"):
        return f"No prompt: {info.get('note') or 'this column did not run'}."
    md = pv.raw_prompt_markdown(info["prompt"], info.get("token_ids"), info.get("bos_count"), info.get("lint") or [])
    if info.get("note"):
        md += f"\n\n_{info['note']}_"
    return md

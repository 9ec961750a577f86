"""The Playground tab: side-by-side chat over the engine (wiring and thin handlers).

Send is ONE queued event whose generator merges every column's stream (the engine's side-by-side
iterator, throttled by ui.chat_adapter.frames). Stop sets this session's cancel flags (the engine
ends each column within a decoding step), waits briefly for the final frame, then cancels the
event as a backstop. Per-session data lives in a gr.State; nothing per request is module-level.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from playground.catalog import get_model
from playground.errors import LineupError, OptionsError
from playground.formats import get_format
from ui import playground_view as pv
from ui.chat_adapter import chat_messages
from ui.playground_api import gpu, register_api, session_key
from ui.playground_controller import Playground, Turn, check_selection, commit, drop_last_turn
from ui.playground_export import read_record, record_markdown, replay_summary
from ui.playground_layout import RAW_PLACEHOLDER, Page, auto_badge, build_layout
from ui.playground_runner import ColumnSetup
from ui.playground_style import CSS
from ui.studio_downloads import DownloadCache

log = logging.getLogger("lineup.ui")
GENERATE_GROUP = "lineup-generate"
__all__ = ["CSS", "build"]


def _empty_state() -> dict[str, Any]:
    return {"histories": {}, "last_user": None}


def _split_for(format_id: str | None):
    """The rationale splitter of a format with an answer marker (Memphis-CoT), else None."""
    fmt = get_format(format_id) if format_id else None
    return fmt.split_answer if fmt is not None and fmt.answer_marker else None


def _quant_of(pg: Playground, quant: str) -> str:
    """A quantization choice resolved for the pool's device ('auto': nf4 on CUDA, fp32 on CPU)."""
    from playground.loading import resolve_quantization

    try:
        return resolve_quantization(quant, pg.pool.device)
    except LineupError:
        return quant


def _raw_md(info: dict[str, Any]) -> str:
    """The raw-prompt accordion text from raw_prompt_info()."""
    if not info.get("prompt"):
        return f"No prompt: {info.get('note') or 'this column did not run'}."
    md = pv.raw_prompt_markdown(info["prompt"], info.get("token_ids"), info.get("bos_count"), info.get("lint") or [], info.get("escaped") or [])
    return md + (f"\n\n_{info['note']}_" if info.get("note") else "")


class PlaygroundTab:
    """The tab's handlers over one Playground controller and one Page of components."""

    def __init__(self, pg: Playground, page: Page, has_gpu: bool):
        self.pg, self.page, self.has_gpu = pg, page, has_gpu
        self.exports_cache = DownloadCache(prefix="lineup-exports-")  # bounded: old exports are deleted

    def quant_of(self, quant: str) -> str:
        """The concrete quantization for this device ('auto' resolved)."""
        return _quant_of(self.pg, quant)

    # ---- shaping updates ---------------------------------------------------------------------
    def slot_updates(self, ids: list[str], quant: str, histories: dict) -> dict:
        """Show/hide the slots and fill their headers and chats for a selection."""
        out: dict = {}
        for i, slot in enumerate(self.page.slots):
            if i >= len(ids):
                out[slot.column] = gr.Column(visible=False)
                continue
            spec = get_model(ids[i])
            out[slot.column] = gr.Column(visible=True)
            out[slot.header] = pv.header_html(spec, self.quant_of(quant), self.has_gpu)
            out[slot.fmt] = gr.Dropdown(choices=pv.format_choices(spec), value=pv.AUTO_FORMAT)
            out[slot.badge] = auto_badge(spec)
            out[slot.chat] = chat_messages(histories.get(spec.id, []), _split_for(spec.format))
            out[slot.metrics] = pv.metrics_html(None)
        return out

    def turn_outputs(self, turn: Turn, changed, histories: dict, first: bool, new_state: dict | None) -> dict:
        """Component updates for one frame of a turn (new_state is set on the final frame)."""
        page, out = self.page, {}
        for s in changed:
            plan, slot = turn.plans[s], page.slots[s]
            out[slot.chat] = chat_messages(histories.get(plan.setup.model_id, []), plan.split, turn.user, turn.views[s])
            out[slot.metrics] = pv.metrics_html(turn.views[s])
        if first:
            for plan in turn.plans:
                out[page.slots[plan.slot].badge] = pv.format_badge(*plan.format_source)
        if first or new_state is not None:
            for s, info in turn.raw.items():
                out[page.slots[s].raw] = _raw_md(info)
        if new_state is not None:
            out[page.state] = new_state
            note = replay_summary(turn.diffs) if turn.diffs is not None else None
            out[page.status] = pv.status_html(self.pg.status([p.setup.model_id for p in turn.plans]), note)
            if turn.record is not None:
                out |= self.exports(turn)
        return out

    def exports(self, turn: Turn) -> dict:
        """Write the turn's replay record (JSON) and Markdown report and point the download buttons at them."""
        stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        jpath = self.exports_cache.write(turn.record.to_json(), f"lineup-replay-{stamp}.json")
        mpath = self.exports_cache.write(record_markdown(turn.record), f"lineup-comparison-{stamp}.md")
        return {self.page.export_json: gr.DownloadButton(value=str(jpath), interactive=True),
                self.page.export_md: gr.DownloadButton(value=str(mpath), interactive=True)}

    # ---- events ------------------------------------------------------------------------------
    def on_turn(self, data: dict, request: gr.Request | None, regenerate: bool):
        """Validate the form, then stream one turn into the columns (the Send/Regenerate generator)."""
        page = self.page
        st = data[page.state] or _empty_state()
        try:
            ids = check_selection(data[page.models])
            options = pv.options_from_form({s.name: data[c] for s, c in page.sliders}, data[page.seed], data[page.stop_text])
        except OptionsError as exc:
            gr.Warning(f"Invalid setting — {exc.field}: {exc.problem}")
            yield {page.options_error: pv.options_error_html(exc), page.sampling: gr.Accordion(open=True)}
            return
        except LineupError as exc:
            gr.Warning(str(exc))
            yield {page.options_error: ""}
            return
        user = st.get("last_user") if regenerate else data[page.msg]
        if not user or not user.strip():
            gr.Warning("Nothing to regenerate yet." if regenerate else "Type a message first.")
            yield {page.options_error: ""}
            return
        histories = drop_last_turn(st["histories"], ids, user) if regenerate else st["histories"]
        overrides = [data[page.slots[i].fmt] for i in range(len(ids))]
        setups = [ColumnSetup(m, None if f in (None, pv.AUTO_FORMAT) else f, data[page.quant]) for m, f in zip(ids, overrides, strict=True)]
        stream = self.pg.run_turn(session_key(request), setups, histories, data[page.system], user, options, data[page.same_seed], data[page.ignore_eos])
        first = True
        with _toast_errors():
            for turn, frame in stream:
                new_state = {"histories": commit(histories, turn), "last_user": user} if frame.final else None
                out = self.turn_outputs(turn, frame.changed, histories, first, new_state)
                if first:
                    out[page.options_error] = ""
                    if not regenerate:
                        out[page.msg] = ""
                first = False
                yield out

    def on_replay(self, blob: bytes | None, request: gr.Request | None):
        """Import a replay record and run it again in the columns (the Import generator)."""
        page = self.page
        if not blob:
            return
        try:
            record = read_record(blob)
        except LineupError as exc:
            gr.Warning(str(exc))
            yield {page.status: pv.status_html(self.pg.status(), f"import failed: {exc}")}
            return
        cols = sorted(record.columns, key=lambda c: c.column)
        ids = [c.model_id for c in cols]
        system = cols[0].messages[0]["content"] if cols[0].messages and cols[0].messages[0]["role"] == "system" else ""
        histories = {c.model_id: [m for m in c.messages if m["role"] != "system"][:-1] for c in cols}
        head = {page.models: ids, page.system: system, **self.slot_updates(ids, "auto", histories)}
        with _toast_errors():
            for turn, frame in self.pg.run_record(session_key(request), record):
                new_state = {"histories": commit(histories, turn), "last_user": turn.user} if frame.final else None
                yield {**head, **self.turn_outputs(turn, frame.changed, histories, bool(head), new_state)}
                head = {}

    def on_selection(self, ids: list[str] | None, quant: str, st: dict | None) -> dict:
        """The slots, presets and status for a new model selection or quantization."""
        ids = (ids or [])[: pv.MAX_COLUMNS]
        out = self.slot_updates(ids, quant, (st or _empty_state())["histories"])
        out[self.page.preset] = gr.Dropdown(choices=pv.preset_choices([get_model(m) for m in ids]))
        out[self.page.status] = pv.status_html(self.pg.status(ids, quant))
        return out

    def on_preset(self, preset_id: str) -> dict:
        """The sliders set to a preset's values."""
        values = pv.preset_values(preset_id)
        return {c: values[s.name] for s, c in self.page.sliders if s.name in values}

    def on_stop(self, request: gr.Request | None) -> None:
        """Set this session's cancel flags."""
        self.pg.stop(session_key(request))

    def on_settle(self, request: gr.Request | None) -> None:
        """Wait (at most 2 s) for this session's runs to send their final frame before the event is cancelled."""
        deadline = time.monotonic() + 2.0
        while self.pg.cancels.running(session_key(request)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def on_clear(self, ids: list[str] | None, request: gr.Request | None) -> dict:
        """Stop, and forget the conversation (the system prompt and settings stay)."""
        page = self.page
        self.pg.stop(session_key(request))
        out = {page.state: _empty_state(), page.options_error: "", page.status: pv.status_html(self.pg.status(ids or [])),
               page.export_json: gr.DownloadButton(value=None, interactive=False), page.export_md: gr.DownloadButton(value=None, interactive=False)}
        for slot in page.slots:
            out |= {slot.chat: [], slot.metrics: pv.metrics_html(None), slot.raw: RAW_PLACEHOLDER}
        return out

    @staticmethod
    def format_badge(fid: str | None, ids: list[str] | None, i: int) -> str:
        """The badge after a format override was picked (or set back to auto)."""
        if fid and fid != pv.AUTO_FORMAT:
            return pv.format_badge("override", fid, None)
        ids = ids or []
        return auto_badge(get_model(ids[i])) if i < len(ids) else ""


@contextlib.contextmanager
def _toast_errors() -> Iterator[None]:
    """Inside a streaming handler: typed errors become a warning toast; others are logged, never shown raw."""
    try:
        yield
    except LineupError as exc:
        gr.Warning(str(exc))
    except Exception:
        log.exception("playground handler failed")
        gr.Warning("Something went wrong while generating; the server log has the details.")


def build(settings) -> None:
    """Build the Playground tab inside the current Blocks/Tab context, with its API endpoints.

    Args:
        settings: the AppSettings (model dirs, concurrency limit).
    """
    pg = Playground(allowed_dirs=settings.model_dirs)
    specs = pg.specs()
    has_gpu = pg.pool.device.startswith("cuda")
    selected = pv.default_selection(specs)
    page = build_layout(specs, selected, has_gpu, lambda: pg.status(selected), lambda q: _quant_of(pg, q))
    tab = PlaygroundTab(pg, page, has_gpu)

    @gpu
    def on_send(data: dict, request: gr.Request):
        yield from tab.on_turn(data, request, regenerate=False)

    @gpu
    def on_regenerate(data: dict, request: gr.Request):
        yield from tab.on_turn(data, request, regenerate=True)

    @gpu
    def on_import(blob: bytes | None, request: gr.Request):
        yield from tab.on_replay(blob, request)

    private = {"api_visibility": "private", "show_progress": "hidden"}
    streaming = {**private, "concurrency_id": GENERATE_GROUP, "concurrency_limit": settings.concurrency_limit}
    form, out = page.form(), page.stream_outputs()
    running = [
        gr.on([page.send.click, page.msg.submit], on_send, inputs=form, outputs=out, **streaming),
        page.regen.click(on_regenerate, inputs=form, outputs=out, **streaming),
        page.importer.upload(on_import, inputs=[page.importer], outputs=[*out, page.models, page.system, *page.slot_outputs()], **streaming),
    ]
    (page.stop.click(tab.on_stop, queue=False, **private)
        .then(tab.on_settle, queue=False, **private)
        .then(None, cancels=running, **private))
    clear_out = [page.state, page.options_error, page.status, page.export_json, page.export_md, *(c for s in page.slots for c in (s.chat, s.metrics, s.raw))]
    page.clear.click(tab.on_clear, inputs=[page.models], outputs=clear_out, cancels=running, queue=False, **private)
    latest = {**private, "trigger_mode": "always_last"}  # quick successive picks: the last one always lands
    gr.on([page.models.input, page.quant.input], tab.on_selection, inputs=[page.models, page.quant, page.state], outputs=[*page.slot_outputs(), page.preset, page.status], **latest)
    page.preset.input(tab.on_preset, inputs=[page.preset], outputs=[c for _, c in page.sliders], **latest)
    for i, slot in enumerate(page.slots):
        slot.fmt.input(lambda fid, ids, i=i: tab.format_badge(fid, ids, i), inputs=[slot.fmt, page.models], outputs=[slot.badge], **latest)
    register_api(pg, settings.concurrency_limit, GENERATE_GROUP)

"""The Playground tab's components: built once, four fixed column slots shown or hidden by the selection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from playground.catalog import ModelSpec
from playground.loading import QUANTIZATIONS
from playground.sampling import SliderSpec, slider_specs
from ui import playground_view as pv

RAW_PLACEHOLDER = "Send a message to see the exact prompt, its token ids and lint warnings."


@dataclass
class Slot:
    """The components of one column slot."""

    column: Any
    header: Any
    fmt: Any
    badge: Any
    chat: Any
    metrics: Any
    raw: Any


@dataclass
class Page:
    """Every component of the tab that a handler reads or writes."""

    models: Any
    quant: Any
    status: Any
    system: Any
    sampling: Any
    preset: Any
    seed: Any
    same_seed: Any
    stop_text: Any
    ignore_eos: Any
    sliders: list[tuple[SliderSpec, Any]]
    options_error: Any
    slots: list[Slot]
    msg: Any
    send: Any
    stop: Any
    regen: Any
    clear: Any
    export_json: Any
    export_md: Any
    importer: Any
    state: Any

    def form(self) -> set:
        """The inputs of a turn (handlers receive them as one {component: value} dict)."""
        return {self.models, self.quant, self.system, self.msg, self.seed, self.same_seed, self.stop_text, self.ignore_eos, self.state,
                *(c for _, c in self.sliders), *(s.fmt for s in self.slots)}

    def stream_outputs(self) -> list:
        """What a streaming turn may update."""
        per_slot = [c for s in self.slots for c in (s.chat, s.metrics, s.badge, s.raw)]
        return [self.msg, self.options_error, self.sampling, self.status, self.state, self.export_json, self.export_md, *per_slot]

    def slot_outputs(self) -> list:
        """What a selection change updates in the slots."""
        return [c for s in self.slots for c in (s.column, s.header, s.fmt, s.badge, s.chat, s.metrics)]


def auto_badge(spec: ModelSpec) -> str:
    """The format badge of a column on 'auto'."""
    if spec.format:
        return pv.format_badge("catalog", spec.format, None)
    return pv.format_badge("tokenizer", "detect", "the format is detected from the tokenizer when you send")


def _slot(i: int, spec: ModelSpec | None, quant: str, has_gpu: bool) -> Slot:
    """One column slot (hidden when no model is selected for it)."""
    with gr.Column(visible=spec is not None, min_width=260, elem_classes=["lu-col"], elem_id=f"lu-col-{i}") as col:
        header = gr.HTML(pv.header_html(spec, quant, has_gpu) if spec else "", elem_classes=["lu-header"], elem_id=f"lu-header-{i}")
        with gr.Row(equal_height=True, elem_classes=["lu-format-row"]):
            choices = pv.format_choices(spec) if spec else [("auto", pv.AUTO_FORMAT)]
            fmt = gr.Dropdown(choices=choices, value=pv.AUTO_FORMAT, show_label=False, container=False, elem_id=f"lu-format-{i}", scale=3, min_width=140)
            badge = gr.HTML(auto_badge(spec) if spec else "", elem_classes=["lu-badge-row"], elem_id=f"lu-badge-{i}", min_height=0)
        chat = gr.Chatbot(value=[], height=380, show_label=False, elem_id=f"lu-chat-{i}", elem_classes=["lu-chat"], buttons=["copy"],
                          feedback_options=None, placeholder="Replies stream here.")
        metrics = gr.HTML(pv.metrics_html(None), elem_id=f"lu-metrics-{i}", elem_classes=["lu-metrics-row"])
        with gr.Accordion("Raw prompt", open=False, elem_id=f"lu-raw-acc-{i}", elem_classes=["lu-raw"]):
            raw = gr.Markdown(RAW_PLACEHOLDER, elem_id=f"lu-raw-{i}")
    return Slot(col, header, fmt, badge, chat, metrics, raw)


def build_layout(specs: Sequence[ModelSpec], selected: Sequence[str], has_gpu: bool, status_line: Callable[[], str], quant_of: Callable[[str], str]) -> Page:
    """Create the tab's components in the current Blocks context.

    Args:
        specs: the catalog.
        selected: the model ids selected on load.
        has_gpu: whether a CUDA GPU is available (what real models need is said otherwise).
        status_line: makes the memory/status line (called on every page load).
        quant_of: resolves a quantization choice ('auto') for this device.

    Returns:
        The Page.
    """
    by_id = {s.id: s for s in specs}
    with gr.Row(equal_height=True):
        models = gr.Dropdown(
            choices=pv.model_choices(specs, has_gpu), value=list(selected), multiselect=True, max_choices=pv.MAX_COLUMNS,
            label="Models (1–4)", info="Demo models run anywhere; the real family needs network access and a GPU.", elem_id="lu-models", scale=4,
        )
        quant = gr.Dropdown(choices=list(QUANTIZATIONS), value="auto", label="Quantization", info="auto: nf4 on GPU, fp32 on CPU", elem_id="lu-quant", scale=1)
    status = gr.HTML(lambda: pv.status_html(status_line()), elem_id="lu-status")
    system = gr.Textbox(label="System prompt", placeholder="Optional; kept for every turn", lines=1, max_lines=6, elem_id="lu-system")
    with gr.Accordion("Sampling", open=False, elem_id="lu-sampling") as sampling:
        with gr.Row():
            preset = gr.Dropdown(choices=pv.preset_choices([by_id[m] for m in selected]), value=pv.NO_PRESET, label="Preset",
                                 info="From the models' cards, or general", elem_id="lu-preset")
            seed = gr.Textbox(label="Seed", placeholder="random (recorded in the export)", elem_id="lu-seed")
            same_seed = gr.Checkbox(value=True, label="Same seed for all columns", elem_id="lu-same-seed")
            stop_text = gr.Textbox(label="Extra stop strings", placeholder="one per line; \\n for a newline", lines=1, max_lines=4, elem_id="lu-stop-strings")
            ignore_eos = gr.Checkbox(value=False, label="Ignore EOS", info="Always generate max new tokens (speed tests; not kept in the replay)", elem_id="lu-ignore-eos")
        sliders = []
        specs_list = slider_specs()
        for start in range(0, len(specs_list), 4):
            with gr.Row():
                for s in specs_list[start:start + 4]:
                    sliders.append((s, gr.Slider(s.minimum, s.maximum, value=s.default, step=s.step, label=s.label, info=s.help, elem_id=f"lu-opt-{s.name}")))
        options_error = gr.HTML("", elem_id="lu-options-error")
    with gr.Row(equal_height=False, elem_id="lu-columns"):
        slots = [_slot(i, by_id[selected[i]] if i < len(selected) else None, quant_of("auto"), has_gpu) for i in range(pv.MAX_COLUMNS)]
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
    state = gr.State({"histories": {}, "last_user": None})
    return Page(models, quant, status, system, sampling, preset, seed, same_seed, stop_text, ignore_eos, sliders, options_error, slots,
                msg, send, stop, regen, clear, export_json, export_md, importer, state)

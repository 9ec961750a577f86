"""The Model-card studio tab: wiring only; card logic lives in cards/ and the adapters in ui/studio_*.py.

The spec YAML is the source of truth. Form edits (``.input``: user edits only) rewrite the YAML;
YAML edits (``.input``) refill the form; programmatic updates fire no ``.input``, so the two never
ping-pong. Every change re-renders README, findings, preview, diff and chart.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from cards.refdata import known_models, languages, licenses, pipeline_tags
from ui.settings import AppSettings
from ui.studio_api import build_card, check_card
from ui.studio_form import BENCH_FIXED, FORM_FIELDS, HYPER_HEADERS, NO_CHOICE, CardForm, apply_form, form_from_data
from ui.studio_push import oauth_available, offline_reason, push_note, push_to_hub
from ui.studio_sections import add_section, apply_section, remove_section, section_choices, section_fields
from ui.studio_sources import (
    EMPTY,
    Loaded,
    StudioInputError,
    add_benchmark_column,
    benchmarks_from_results,
    example_choices,
    format_choices,
    format_example,
    import_readme,
    import_spec,
    import_training,
    load_start,
    metrics_overview,
    parse_lines,
    read_upload,
    set_merge_config,
    split_names,
)
from ui.studio_view import (
    FINDING_HEADERS,
    StudioView,
    chart_rows,
    dump_data,
    finding_rows,
    parse_yaml,
    render_view,
    summary_md,
)

DOWNLOAD_DIR = Path(tempfile.gettempdir()) / "lineup-studio"
RELATIONS = ["adapter", "merge", "quantized", "finetune"]
QUIET = {"show_progress": "hidden", "trigger_mode": "always_last", "api_visibility": "private"}

CSS = """
#studio-form .block { margin-bottom: 0; }
#studio-validation-summary p { margin: 0.2em 0; font-size: 1.02em; }
#studio-preview .studio-card { max-height: 820px; overflow: auto; padding: 0.5em 1.2em; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
#studio-preview .studio-card table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
#studio-preview .studio-card th, #studio-preview .studio-card td { border: 1px solid var(--border-color-primary);
  padding: 4px 8px; }
#studio-preview .studio-card pre { background: var(--background-fill-secondary); padding: 0.6em; border-radius: 6px;
  overflow-x: auto; font-size: 0.85em; }
#studio-preview .studio-card img { max-width: 100%; }
#studio-status p, .studio-note p { margin: 0.2em 0; }
.studio-note { font-size: 0.92em; color: var(--body-text-color-subdued); }
#studio-actions { align-items: center; }
"""


def _languages() -> list[tuple[str, str]]:
    """(label, code) pairs for the language picker."""
    return [(f"{code} — {name}", code) for code, name in languages().items()]


def _choices_with(base: list, values: tuple[str, ...]) -> list:
    """Dropdown choices plus any current values that are not among them (imported or custom ids)."""
    known = {c[1] if isinstance(c, tuple) else c for c in base}
    return [*base, *[v for v in values if v not in known]]


def _frame(headers: list[str], rows: tuple) -> pd.DataFrame:
    """A DataFrame for a table component (one blank row when there are no rows, so it can be typed in)."""
    data = [list(r) for r in rows] or [[""] * len(headers)]
    return pd.DataFrame(data, columns=headers)


def _write_download(text: str, name: str) -> str:
    """Write text to a per-content file for a download button; returns its path."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    folder = DOWNLOAD_DIR / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return str(path)


class StudioTab:
    """The studio's components and event handlers (handlers keep no state between requests)."""

    def __init__(self, settings: AppSettings):
        self.settings = settings
        self.form: list[gr.components.Component] = []

    # ------------------------------------------------------------ layout

    def build(self) -> None:
        """Lay out the tab and wire its events (inside the caller's gr.Tab)."""
        first = load_start(EMPTY)
        first_view = render_view(first.spec_yaml)
        form0 = form_from_data(first_view.data)
        with gr.Column(elem_id="studio"):
            gr.Markdown("Build a model card from a form or a spec, import and check an existing README.md, "
                        "and download a card that passes `cards check`.", elem_classes="studio-note")
            self._start_row()
            with gr.Row(equal_height=False):
                with gr.Column(scale=5, elem_id="studio-form"):
                    self._form(form0)
                with gr.Column(scale=4, elem_id="studio-side"):
                    self._side(first, first_view)
            self._actions(first, first_view)
        self._wire()

    def _start_row(self) -> None:
        """Start from: empty card or an example, README import, spec upload."""
        with gr.Row(elem_id="studio-start", equal_height=False):
            self.start = gr.Dropdown(example_choices(), value=EMPTY, label="Start from", scale=3, container=False,
                                     elem_id="studio-start-choice", filterable=False)
            self.load_btn = gr.Button("Load", variant="primary", scale=1, elem_id="studio-load")
            self.readme_up = gr.UploadButton("Import README.md", file_types=[".md", ".markdown", ".txt"], scale=2,
                                             elem_id="studio-import-readme")
            self.spec_up = gr.UploadButton("Upload spec YAML", file_types=[".yaml", ".yml"], scale=2,
                                           elem_id="studio-upload-spec")
        self.status = gr.Markdown("", elem_id="studio-status")
        self.original = gr.State(None)
        self.readme_state = gr.State(None)

    def _form(self, f: CardForm) -> None:
        """The card form, one accordion per part."""
        c: dict[str, Any] = {}
        with gr.Accordion("Model and metadata", open=True, elem_id="studio-acc-meta"):
            with gr.Row():
                c["model_name"] = gr.Textbox(f.model_name, label="Model name", elem_id="studio-model-name")
                c["repo_id"] = gr.Textbox(f.repo_id, label="Hub repo id (org/name)", elem_id="studio-repo-id")
            with gr.Row():
                c["license"] = gr.Dropdown(sorted(licenses()), value=f.license or None, label="License",
                                           filterable=True, allow_custom_value=True, elem_id="studio-license")
                c["license_name"] = gr.Textbox(f.license_name, label="license_name (with 'other')")
                c["license_link"] = gr.Textbox(f.license_link, label="license_link (with 'other')")
            with gr.Row():
                c["language"] = gr.Dropdown(_choices_with(_languages(), f.language), value=list(f.language),
                                            multiselect=True, allow_custom_value=True, label="Language",
                                            elem_id="studio-language")
                c["pipeline_tag"] = gr.Dropdown(sorted(pipeline_tags()), value=f.pipeline_tag or None,
                                                label="Pipeline tag", filterable=True, allow_custom_value=True)
                c["library_name"] = gr.Textbox(f.library_name, label="Library")
            with gr.Row():
                c["tags"] = gr.Dropdown(list(f.tags), value=list(f.tags), multiselect=True, allow_custom_value=True,
                                        label="Tags (type and press Enter)")
                c["datasets"] = gr.Dropdown(list(f.datasets), value=list(f.datasets), multiselect=True,
                                            allow_custom_value=True, label="Datasets (org/name)")
            with gr.Row():
                c["base_model"] = gr.Dropdown(_choices_with(sorted(known_models().values()), f.base_model),
                                              value=list(f.base_model), multiselect=True, allow_custom_value=True,
                                              label="Base model(s)", scale=2)
                c["base_model_relation"] = gr.Dropdown([NO_CHOICE, *RELATIONS], value=f.base_model_relation or NO_CHOICE,
                                                       label="Relation to the base", scale=1)
        with gr.Accordion("Summary", open=True, elem_id="studio-acc-summary"):
            c["summary"] = gr.Textbox(f.summary, lines=4, max_lines=14, show_label=False,
                                      placeholder="Markdown under the title", elem_id="studio-summary")
        with gr.Accordion("Training", open=False, elem_id="studio-acc-training"):
            c["training_intro"] = gr.Textbox(f.training_intro, lines=2, max_lines=10, label="Intro (markdown)")
            c["hyperparameters"] = gr.Dataframe(
                _frame(HYPER_HEADERS, f.hyperparameters), headers=HYPER_HEADERS, datatype="str", type="array",
                column_count=3, interactive=True, wrap=True,
                label="Stages and hyperparameters (one row per value; e.g. learning_rate, extra.seed, datasets)",
                elem_id="studio-hyperparameters")
            with gr.Row(equal_height=True):
                self.train_stage = gr.Textbox("Fine-tuning", label="Import into stage", scale=2)
                self.train_up = gr.UploadButton("Import TrainingArguments JSON / axolotl YAML", scale=3,
                                                file_types=[".json", ".yaml", ".yml"], elem_id="studio-import-training")
            self.train_msg = gr.Markdown("", elem_classes="studio-note")
        with gr.Accordion("Prompt format", open=False, elem_id="studio-acc-prompt"):
            c["prompt_format"] = gr.Dropdown([(NO_CHOICE, NO_CHOICE), *format_choices()],
                                             value=f.prompt_format or NO_CHOICE, label="Format (from the playground)",
                                             elem_id="studio-prompt-format")
            self.format_example = gr.Code(format_example(f.prompt_format), language=None, interactive=False,
                                          label="How a conversation is rendered", lines=4)
        with gr.Accordion("Merge", open=False, elem_id="studio-acc-merge"):
            c["merge_config"] = gr.Code(f.merge_config, language="yaml", interactive=True, lines=6,
                                        label="mergekit YAML (paste, or upload below)", elem_id="studio-merge")
            self.merge_up = gr.UploadButton("Upload mergekit YAML", file_types=[".yaml", ".yml"], size="sm")
            self.merge_msg = gr.Markdown("", elem_classes="studio-note")
        with gr.Accordion("Benchmarks", open=False, elem_id="studio-acc-benchmarks"):
            self.bench_files = gr.File(file_count="multiple", file_types=[".json"], label="lm-eval results files",
                                       height=110, elem_id="studio-results")
            with gr.Row():
                self.bench_names = gr.Textbox(label="Model names, one per file (in order)", lines=2)
                self.bench_metrics = gr.Textbox(label="Metrics: task=metric[,filter], one a line", lines=2)
                self.bench_this = gr.Textbox(f.model_name, label="Row that is this model")
            self.bench_make = gr.Button("Make the table from these files", size="sm")
            self.bench_overview = gr.Markdown("", elem_classes="studio-note")
            c["benchmarks"] = gr.Dataframe(
                _frame([*BENCH_FIXED, *f.bench_columns], f.bench_rows), datatype="str", type="pandas",
                interactive=True, wrap=True,
                label="Values (this model: yes; one column per benchmark id)", elem_id="studio-benchmarks")
            with gr.Row(equal_height=True):
                self.bench_label = gr.Textbox(label="New benchmark (type values by hand)", placeholder="e.g. GSM8K",
                                              scale=3)
                self.bench_add = gr.Button("Add benchmark column", size="sm", scale=1)
            self.bench_msg = gr.Markdown("", elem_classes="studio-note")
        with gr.Accordion("Limitations", open=False, elem_id="studio-acc-limitations"):
            c["limitations"] = gr.Textbox(f.limitations, lines=3, max_lines=12, show_label=False,
                                          placeholder="What the model should not be used for; known failure modes")
        with gr.Accordion("Free sections", open=False, elem_id="studio-acc-sections"):
            with gr.Row(equal_height=True):
                self.sec_pick = gr.Dropdown([], value=None, label="Section", scale=3, elem_id="studio-section-pick")
                self.sec_add = gr.Button("Add section", size="sm", scale=1)
                self.sec_remove = gr.Button("Remove", size="sm", variant="stop", scale=1)
            self.sec_title = gr.Textbox(label="Title", interactive=False)
            self.sec_body = gr.Textbox(label="Body (markdown)", lines=4, max_lines=16, interactive=False)
            self.sec_note = gr.Markdown("", elem_classes="studio-note")
        self.form = [c[name] for name in FORM_FIELDS]

    def _side(self, first: Loaded, view: StudioView) -> None:
        """Validation panel, then spec YAML / preview / README / diff tabs, then the chart."""
        self.summary = gr.Markdown(summary_md(view, False), elem_id="studio-validation-summary")
        self.findings = gr.Dataframe(self._finding_frame(view), headers=FINDING_HEADERS, datatype="str", interactive=False,
                                     wrap=True, max_height=260, label="Validation (cards check)",
                                     column_widths=["12%", "22%", "7%", "32%", "27%"], elem_id="studio-findings")
        with gr.Tabs(elem_id="studio-views"):
            with gr.Tab("Spec YAML", id="spec"):
                self.spec = gr.Code(first.spec_yaml, language="yaml", interactive=True, lines=28, max_lines=40,
                                    show_label=False, elem_id="studio-spec")
            with gr.Tab("Preview", id="preview"):
                self.preview = gr.HTML(self._preview(view), elem_id="studio-preview")
            with gr.Tab("README.md", id="readme"):
                self.readme = gr.Code(view.readme or "", language="markdown", interactive=False, lines=28,
                                      max_lines=40, show_label=False, elem_id="studio-readme")
            with gr.Tab("Diff", id="diff"):
                self.diff = gr.Code(self._diff_text(view), language=None, interactive=False, lines=20, max_lines=40,
                                    show_label=False, elem_id="studio-diff")
        frame = self._chart_frame(view)
        self.chart = gr.BarPlot(frame, x="bar", y="value", color="model", title="Benchmarks", x_title="",
                                y_title="score", x_label_angle=-35, height=340, sort=list(frame["bar"]) or None,
                                elem_id="studio-chart", visible=bool(view.chart))

    def _actions(self, first: Loaded, view: StudioView) -> None:
        """Override, downloads and the push panel."""
        with gr.Row(elem_id="studio-actions", equal_height=True):
            self.override = gr.Checkbox(False, label="Override errors (download anyway)", scale=2,
                                        elem_id="studio-override")
            self.dl_readme = gr.DownloadButton("Download README.md", variant="primary", scale=2,
                                               value=_write_download(view.readme, "README.md") if view.readme else None,
                                               interactive=view.can_download(False), elem_id="studio-download-readme")
            self.dl_spec = gr.DownloadButton("Download spec YAML", scale=2, elem_id="studio-download-spec",
                                             value=_write_download(first.spec_yaml, "card-spec.yaml"))
        with gr.Accordion("Push to the Hub (pull request)", open=False, elem_id="studio-push"):
            offline = offline_reason() is not None
            with gr.Row(equal_height=True):
                self.push_repo = gr.Textbox(view.data.get("repo_id", "") if isinstance(view.data, dict) else "",
                                            label="Model repo (org/name)", scale=2)
                self.push_token = gr.Textbox(label="Hugging Face token (write)", type="password", scale=2)
                if oauth_available():
                    gr.LoginButton(scale=1)
                self.push_btn = gr.Button("Push unavailable offline — why?" if offline else "Open a pull request",
                                          scale=1, elem_id="studio-push-button")
            self.push_msg = gr.Markdown(push_note(), elem_classes="studio-note", elem_id="studio-push-msg")

    # ------------------------------------------------------------ view helpers

    @staticmethod
    def _finding_frame(view: StudioView) -> pd.DataFrame:
        """Findings as a table."""
        return pd.DataFrame(finding_rows(view.findings), columns=FINDING_HEADERS)

    @staticmethod
    def _preview(view: StudioView) -> str:
        """The sanitised card HTML inside the preview frame (the HTML comes from cards.render_preview)."""
        return f'<div class="studio-card">{view.preview_html or ""}</div>'

    @staticmethod
    def _diff_text(view: StudioView) -> str:
        """The diff, or a line saying there is none."""
        return view.diff or "No changes against the card as loaded or imported."

    @staticmethod
    def _chart_frame(view: StudioView) -> pd.DataFrame:
        """The chart rows as a DataFrame (empty with the right columns when there are none)."""
        return pd.DataFrame(chart_rows(view.chart), columns=["bar", "benchmark", "model", "value"])

    def _chart_update(self, view: StudioView) -> dict:
        """The chart's value, bar order (table order, grouped by benchmark) and visibility."""
        frame = self._chart_frame(view)
        return gr.update(value=frame, sort=list(frame["bar"]) or None, visible=bool(view.chart))

    def _views(self, spec_yaml: str, original: str | None, override: bool) -> dict:
        """Updates for every rendered output of the spec YAML."""
        view = render_view(spec_yaml, original)
        out: dict = {
            self.summary: summary_md(view, bool(override)),
            self.findings: self._finding_frame(view),
            self.dl_spec: gr.update(value=_write_download(spec_yaml or "", "card-spec.yaml")),
            self.readme_state: view.readme,
        }
        if view.readme is not None:
            out[self.preview] = self._preview(view)
            out[self.readme] = view.readme
            out[self.diff] = self._diff_text(view)
            out[self.chart] = self._chart_update(view)
            out[self.dl_readme] = gr.update(value=_write_download(view.readme, "README.md"),
                                            interactive=view.can_download(bool(override)))
        else:
            out[self.dl_readme] = gr.update(interactive=False)
        return out

    def _form_updates(self, data: Any, section: str | None = None) -> dict:
        """Updates that refill the form and the section editor from spec data."""
        f = form_from_data(data)
        values = dict(zip(FORM_FIELDS, f.values(), strict=True))
        comps = dict(zip(FORM_FIELDS, self.form, strict=True))
        out: dict = {comps[n]: gr.update(value=v) for n, v in values.items()}
        out[comps["language"]] = gr.update(value=list(f.language), choices=_choices_with(_languages(), f.language))
        out[comps["tags"]] = gr.update(value=list(f.tags), choices=list(f.tags))
        out[comps["datasets"]] = gr.update(value=list(f.datasets), choices=list(f.datasets))
        out[comps["base_model"]] = gr.update(value=list(f.base_model),
                                             choices=_choices_with(sorted(known_models().values()), f.base_model))
        out[comps["license"]] = gr.update(value=f.license or None)
        out[comps["pipeline_tag"]] = gr.update(value=f.pipeline_tag or None)
        out[comps["hyperparameters"]] = gr.update(value=_frame(HYPER_HEADERS, f.hyperparameters))
        out[comps["benchmarks"]] = gr.update(value=_frame([*BENCH_FIXED, *f.bench_columns], f.bench_rows))
        out[self.format_example] = format_example(f.prompt_format)
        out.update(self._section_updates(data, section))
        return out

    def _section_updates(self, data: Any, section: str | None) -> dict:
        """Updates for the free-section editor, keeping the chosen item when it still exists."""
        choices = section_choices(data)
        ids = [v for _, v in choices]
        pick = section if section in ids else (ids[0] if ids else None)
        fields = section_fields(data, pick)
        return {
            self.sec_pick: gr.update(choices=choices, value=pick),
            self.sec_title: gr.update(value=fields.title, interactive=fields.editable_title),
            self.sec_body: gr.update(value=fields.body, interactive=fields.editable_body),
            self.sec_note: fields.note,
        }

    def _with_spec(self, data: Any, original: str | None, override: bool) -> dict:
        """Updates after an explicit action changed the spec data: new YAML plus every view."""
        text = dump_data(data)
        return {self.spec: text, **self._views(text, original, override)}

    # ------------------------------------------------------------ handlers

    def on_spec_input(self, spec_yaml: str, original: str | None, override: bool, section: str | None) -> dict:
        """The user edited the YAML: re-render, and refill the form when the YAML parses."""
        out = self._views(spec_yaml, original, override)
        data, problem = parse_yaml(spec_yaml)
        if problem is None:
            out.update(self._form_updates(data, section))
        return out

    def on_form_input(self, spec_yaml: str, original: str | None, override: bool, *values: Any) -> dict:
        """The user edited the form: write the changed fields into the YAML and re-render."""
        data, problem = parse_yaml(spec_yaml)
        if problem is not None:
            out = self._views(spec_yaml, original, override)
            out[self.status] = (f"✖ Form edits wait until the spec YAML parses again (line {problem.line}: "
                                f"{problem.problem}). Your form values are kept.")
            return out
        new = apply_form(data, CardForm.from_values(values))
        if new == data:
            return {}
        out = self._with_spec(new, original, override)
        out[self.status] = ""
        return out

    def _load(self, loaded: Loaded, override: bool) -> dict:
        """Updates that replace the spec with a new starting point."""
        view = render_view(loaded.spec_yaml)
        original = loaded.original if loaded.original is not None else view.readme
        out = {self.spec: loaded.spec_yaml, self.original: original, self.status: loaded.message,
               **self._views(loaded.spec_yaml, original, override)}
        if view.data is not None:
            out.update(self._form_updates(view.data))
            out[self.push_repo] = str(view.data.get("repo_id") or "")
            out[self.bench_this] = str(view.data.get("model_name") or "")
        return out

    def on_load(self, choice: str, override: bool) -> dict:
        """Start from the empty card or an example spec."""
        try:
            return self._load(load_start(choice), override)
        except StudioInputError as exc:
            return {self.status: f"✖ {exc}"}

    def on_readme_upload(self, path: str | None, override: bool) -> dict:
        """Import an uploaded README.md through the round trip (a bad upload keeps everything)."""
        try:
            return self._load(import_readme(read_upload(path, "the README", self.settings.max_upload_bytes)), override)
        except StudioInputError as exc:
            return {self.status: f"✖ The README was not imported: {exc}. Nothing else changed."}

    def on_spec_upload(self, path: str | None, override: bool) -> dict:
        """Load an uploaded spec YAML (a bad upload keeps everything)."""
        try:
            return self._load(import_spec(read_upload(path, "the spec", self.settings.max_upload_bytes)), override)
        except StudioInputError as exc:
            return {self.status: f"✖ The spec was not loaded: {exc}. Nothing else changed."}

    def _explicit(self, spec_yaml: str, msg_box, action) -> tuple[Any, dict]:
        """Run an action on the parsed spec; (new data or None, message updates)."""
        data, problem = parse_yaml(spec_yaml)
        if problem is not None:
            return None, {msg_box: f"✖ Fix the spec YAML first (line {problem.line}: {problem.problem})."}
        try:
            new, message = action(data)
        except StudioInputError as exc:
            return None, {msg_box: f"✖ {exc}"}
        return new, {msg_box: message}

    def on_training_upload(self, path, stage, spec_yaml, original, override, section) -> dict:
        """Import a trainer config into a stage."""
        def action(data):
            text = read_upload(path, "the training config", self.settings.max_upload_bytes)
            return import_training(data, text, Path(path).name if path else "config", stage or "")
        new, out = self._explicit(spec_yaml, self.train_msg, action)
        if new is not None:
            out.update(self._with_spec(new, original, override))
            out.update(self._form_updates(new, section))
        return out

    def on_merge_upload(self, path, spec_yaml, original, override, section) -> dict:
        """Put an uploaded mergekit YAML into the merge section."""
        def action(data):
            text = read_upload(path, "the mergekit config", self.settings.max_upload_bytes)
            return set_merge_config(data, text), f"Loaded **{Path(path).name}** into the merge section."
        new, out = self._explicit(spec_yaml, self.merge_msg, action)
        if new is not None:
            out.update(self._with_spec(new, original, override))
            out.update(self._form_updates(new, section))
        return out

    def _results(self, paths: list | None) -> dict[str, str]:
        """{file name: text} of the uploaded results files."""
        out = {}
        for p in paths or []:
            path = p if isinstance(p, str) else getattr(p, "name", str(p))
            out[Path(path).name] = read_upload(path, Path(path).name, self.settings.max_upload_bytes)
        return out

    def on_results_change(self, paths: list | None) -> str:
        """List the tasks and metrics of the uploaded results files."""
        try:
            return metrics_overview(self._results(paths)) if paths else ""
        except StudioInputError as exc:
            return f"✖ {exc}"

    def on_bench_make(self, paths, names, metrics, this_model, spec_yaml, original, override, section) -> dict:
        """Build the benchmark table from results files."""
        def action(data):
            new, findings, message = benchmarks_from_results(
                data, self._results(paths), split_names(names), parse_lines(metrics), (this_model or "").strip())
            notes = "".join(f"\n- {f.severity}: {f.field}: {f.problem}" for f in findings)
            return new, message + notes
        new, out = self._explicit(spec_yaml, self.bench_msg, action)
        if new is not None:
            out.update(self._with_spec(new, original, override))
            out.update(self._form_updates(new, section))
        return out

    def on_bench_add(self, label, spec_yaml, original, override, section) -> dict:
        """Add an empty benchmark column for typing values."""
        new, out = self._explicit(spec_yaml, self.bench_msg,
                                  lambda data: (add_benchmark_column(data, label or ""), f"Added **{label}**."))
        if new is not None:
            out.update(self._with_spec(new, original, override))
            out.update(self._form_updates(new, section))
            out[self.bench_label] = ""
        return out

    def on_section_pick(self, spec_yaml: str, section: str | None) -> dict:
        """Show the chosen free section."""
        data, problem = parse_yaml(spec_yaml)
        if problem is not None:
            return {self.sec_note: "✖ Fix the spec YAML first."}
        fields = section_fields(data, section)
        return {self.sec_title: gr.update(value=fields.title, interactive=fields.editable_title),
                self.sec_body: gr.update(value=fields.body, interactive=fields.editable_body),
                self.sec_note: fields.note}

    def on_section_edit(self, spec_yaml, original, override, section, title, body) -> dict:
        """The user typed in the section editor."""
        data, problem = parse_yaml(spec_yaml)
        if problem is not None:
            return {self.sec_note: "✖ Section edits wait until the spec YAML parses again. Your text is kept."}
        new = apply_section(data, section, title or "", body or "")
        if new is None or new == data:
            return {}
        return {**self._with_spec(new, original, override),
                self.sec_pick: gr.update(choices=section_choices(new), value=section)}

    def on_section_add(self, spec_yaml, original, override) -> dict:
        """Append a new free section and select it."""
        data, problem = parse_yaml(spec_yaml)
        if problem is not None:
            return {self.sec_note: "✖ Fix the spec YAML first."}
        new, index = add_section(data)
        return {**self._with_spec(new, original, override), **self._section_updates(new, index)}

    def on_section_remove(self, spec_yaml, original, override, section) -> dict:
        """Remove the chosen free section."""
        data, problem = parse_yaml(spec_yaml)
        new = None if problem is not None else remove_section(data, section)
        if new is None:
            return {self.sec_note: "Nothing to remove."}
        return {**self._with_spec(new, original, override), **self._section_updates(new, None)}

    def on_refresh(self, spec_yaml: str, original: str | None, override: bool) -> dict:
        """Re-render (the override box changed)."""
        return self._views(spec_yaml, original, override)

    # ------------------------------------------------------------ wiring

    def _wire(self) -> None:
        """Connect events; every UI event is private, only build_card/check_card form the API."""
        views = [self.summary, self.findings, self.preview, self.readme, self.diff, self.chart, self.dl_readme,
                 self.dl_spec, self.readme_state]
        sections = [self.sec_pick, self.sec_title, self.sec_body, self.sec_note]
        form_out = [*self.form, self.format_example, *sections]
        base = [self.spec, self.original, self.override]
        self.spec.input(self.on_spec_input, [*base, self.sec_pick], [*views, *form_out], **QUIET)
        gr.on([c.input for c in self.form], self.on_form_input, [*base, *self.form],
              [self.spec, self.status, *views], **QUIET)
        load_out = [self.spec, self.original, self.status, self.push_repo, self.bench_this, *views, *form_out]
        self.load_btn.click(self.on_load, [self.start, self.override], load_out, api_visibility="private")
        self.readme_up.upload(self.on_readme_upload, [self.readme_up, self.override], load_out,
                              api_visibility="private")
        self.spec_up.upload(self.on_spec_upload, [self.spec_up, self.override], load_out, api_visibility="private")
        self.override.change(self.on_refresh, base, views, **QUIET)
        self.form[FORM_FIELDS.index("prompt_format")].change(
            lambda fid: format_example(None if fid == NO_CHOICE else fid),
            self.form[FORM_FIELDS.index("prompt_format")], self.format_example, **QUIET)
        edit_out = [self.spec, *views, *form_out]
        self.train_up.upload(self.on_training_upload, [self.train_up, self.train_stage, *base, self.sec_pick],
                             [self.train_msg, *edit_out], api_visibility="private")
        self.merge_up.upload(self.on_merge_upload, [self.merge_up, *base, self.sec_pick],
                             [self.merge_msg, *edit_out], api_visibility="private")
        self.bench_files.change(self.on_results_change, self.bench_files, self.bench_overview, api_visibility="private")
        self.bench_make.click(self.on_bench_make, [self.bench_files, self.bench_names, self.bench_metrics,
                                                   self.bench_this, *base, self.sec_pick],
                              [self.bench_msg, *edit_out], api_visibility="private")
        self.bench_add.click(self.on_bench_add, [self.bench_label, *base, self.sec_pick],
                             [self.bench_msg, self.bench_label, *edit_out], api_visibility="private")
        self.sec_pick.input(self.on_section_pick, [self.spec, self.sec_pick], sections[1:], **QUIET)
        gr.on([self.sec_title.input, self.sec_body.input], self.on_section_edit,
              [*base, self.sec_pick, self.sec_title, self.sec_body], [self.spec, self.sec_pick, *views], **QUIET)
        self.sec_add.click(self.on_section_add, base, [self.spec, *views, *sections], api_visibility="private")
        self.sec_remove.click(self.on_section_remove, [*base, self.sec_pick], [self.spec, *views, *sections],
                              api_visibility="private")
        self.push_btn.click(_push, [self.readme_state, self.push_repo, self.push_token], self.push_msg,
                            api_visibility="private")
        gr.api(build_card, api_name="build_card")
        gr.api(check_card, api_name="check_card")


def _push(readme: str | None, repo_id: str, token: str, oauth_token: gr.OAuthToken | None = None) -> str:
    """Push the current README as a pull request (the OAuth token is injected by gradio on a Space)."""
    return push_to_hub(readme, repo_id, token, oauth_token.token if oauth_token is not None else None)


def build(settings: AppSettings) -> StudioTab:
    """Build the Model-card studio inside the current gr.Tab.

    Args:
        settings: the app settings (upload size limit).

    Returns:
        The StudioTab holding the components (tests use it to call handlers).
    """
    tab = StudioTab(settings)
    tab.build()
    return tab


__all__ = ["CSS", "StudioTab", "build"]

"""The Model-card studio tab: wiring only; card logic lives in cards/ and the adapters in ui/studio_*.py.

The spec YAML is the source of truth. Form edits (``.input``: user edits only) rewrite the YAML;
YAML edits (``.input``) refill the form; programmatic updates fire no ``.input``, so the two never
ping-pong. Every change re-renders README, findings, preview, diff and chart.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from cards.refdata import known_models, licenses, pipeline_tags
from ui.settings import AppSettings
from ui.studio_api import build_card, check_card
from ui.studio_downloads import DownloadCache
from ui.studio_form import FORM_FIELDS, NO_CHOICE, CardForm, form_from_data
from ui.studio_handlers import StudioHandlers, choices_with, language_choices, table_frame
from ui.studio_push import oauth_available, offline_reason, push_note, push_to_hub
from ui.studio_sources import EMPTY, Loaded, example_choices, format_choices, format_example, load_start
from ui.studio_tables import BENCH_FIXED, HYPER_HEADERS
from ui.studio_view import StudioView, findings_label, render_view, summary_md

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




class StudioTab(StudioHandlers):
    """The studio's components and event handlers (handlers keep no state between requests)."""

    def __init__(self, settings: AppSettings):
        self.settings = settings
        self.form: list[gr.components.Component] = []
        self.downloads = DownloadCache()

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
        with gr.Row(equal_height=True):
            self.status = gr.Markdown("", elem_id="studio-status")
            self.undo_btn = gr.Button("Restore the previous spec", size="sm", visible=False, scale=0,
                                      min_width=220, elem_id="studio-undo")
        self.previous = gr.State(None)  # (spec YAML, original) replaced by the last load, for the undo button
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
                c["language"] = gr.Dropdown(choices_with(language_choices(), f.language), value=list(f.language),
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
                c["base_model"] = gr.Dropdown(choices_with(sorted(known_models().values()), f.base_model),
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
                table_frame(HYPER_HEADERS, f.hyperparameters), headers=HYPER_HEADERS, datatype="str", type="array",
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
                table_frame([*BENCH_FIXED, *f.bench_columns], f.bench_rows), datatype="str", type="pandas",
                interactive=True, wrap=True,
                label="Values in the spec's units (values_in) — this model: yes; one column per benchmark id", elem_id="studio-benchmarks")
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
        self.findings = gr.Dataframe(self._finding_frame(view), datatype="str", interactive=False,
                                     wrap=True, max_height=260, label=findings_label(view.line_source),
                                     column_widths=["11%", "18%", "10%", "33%", "28%"], elem_id="studio-findings")
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
        self.chart = gr.BarPlot(frame, x="bar", y="value", color="model", title="Benchmarks", x_title="benchmark · model",
                                y_title="score", x_label_angle=-35, height=340, sort=list(frame["bar"]) or None,
                                elem_id="studio-chart", visible=bool(view.chart))

    def _actions(self, first: Loaded, view: StudioView) -> None:
        """Override, downloads and the push panel."""
        with gr.Row(elem_id="studio-actions", equal_height=True):
            self.override = gr.Checkbox(False, label="Override errors (download anyway)", scale=2,
                                        elem_id="studio-override")
            self.dl_readme = gr.DownloadButton("Download README.md", variant="primary", scale=2,
                                               value=self.downloads.write(view.readme, "README.md") if view.readme else None,
                                               interactive=view.can_download(False), elem_id="studio-download-readme")
            self.dl_spec = gr.DownloadButton("Download spec YAML", scale=2, elem_id="studio-download-spec",
                                             value=self.downloads.write(first.spec_yaml, "card-spec.yaml"))
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

    # ------------------------------------------------------------ wiring

    def _wire(self) -> None:
        """Connect events; every UI event is private, only build_card/check_card form the API."""
        views = [self.summary, self.findings, self.preview, self.readme, self.diff, self.chart, self.dl_readme,
                 self.dl_spec, self.readme_state]
        sections = [self.sec_pick, self.sec_title, self.sec_body, self.sec_note]
        form_out = [*self.form, self.format_example, *sections]
        base = [self.spec, self.original, self.override]
        self.spec.input(self.on_spec_input, [*base, self.sec_pick], [*views, *form_out], **QUIET)
        # blur too: pasted or autofilled text may fire no input event; an unchanged form is a no-op
        triggers = [c.input for c in self.form] + [c.blur for c in self.form if isinstance(c, gr.Textbox | gr.Code)]
        gr.on(triggers, self.on_form_input, [*base, *self.form], [self.spec, self.status, *views], **QUIET)
        load_out = [self.spec, self.original, self.status, self.push_repo, self.bench_this, self.previous,
                    self.undo_btn, *views, *form_out]
        current = [self.override, self.spec, self.original]
        self.load_btn.click(self.on_load, [self.start, *current], load_out, api_visibility="private")
        self.readme_up.upload(self.on_readme_upload, [self.readme_up, *current], load_out, api_visibility="private")
        self.spec_up.upload(self.on_spec_upload, [self.spec_up, *current], load_out, api_visibility="private")
        self.undo_btn.click(self.on_undo, [self.previous, self.override], load_out, api_visibility="private")
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

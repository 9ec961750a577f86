"""The studio tab's event handlers and view updates (a mixin; StudioTab in studio_tab.py owns the components).

Handlers take the values gradio passes and return {component: update} dicts; they keep no state
between requests (the spec YAML, the original card and the undo copy travel in components/State).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from cards.refdata import known_models, languages
from ui.settings import AppSettings
from ui.studio_downloads import DownloadCache
from ui.studio_form import FORM_FIELDS, CardForm, apply_form, form_from_data
from ui.studio_sections import add_section, apply_section, remove_section, section_choices, section_fields
from ui.studio_sources import (
    Loaded,
    StudioInputError,
    add_benchmark_column,
    benchmarks_from_results,
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
from ui.studio_tables import BENCH_FIXED, HYPER_HEADERS
from ui.studio_view import (
    FINDING_HEADERS,
    StudioView,
    chart_rows,
    dump_data,
    finding_rows,
    findings_label,
    parse_yaml,
    render_view,
    summary_md,
)


def language_choices() -> list[tuple[str, str]]:
    """(label, code) pairs for the language picker."""
    return [(f"{code} — {name}", code) for code, name in languages().items()]


def choices_with(base: list, values: tuple[str, ...]) -> list:
    """Dropdown choices plus any current values that are not among them (imported or custom ids)."""
    known = {c[1] if isinstance(c, tuple) else c for c in base}
    return [*base, *[v for v in values if v not in known]]


def table_frame(headers: list[str], rows: tuple) -> pd.DataFrame:
    """A DataFrame for a table component (one blank row when there are no rows, so it can be typed in)."""
    data = [list(r) for r in rows] or [[""] * len(headers)]
    return pd.DataFrame(data, columns=headers)



class StudioHandlers:
    """View updates and event handlers; the subclass creates the components they name."""

    settings: AppSettings
    form: list
    downloads: DownloadCache  # the bounded folder the download buttons' files go to

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
            self.findings: gr.update(value=self._finding_frame(view), label=findings_label(view.line_source)),
            self.dl_spec: gr.update(value=self.downloads.write(spec_yaml or "", "card-spec.yaml")),
            self.readme_state: view.readme,
        }
        if view.readme is not None:
            out[self.preview] = self._preview(view)
            out[self.readme] = view.readme
            out[self.diff] = self._diff_text(view)
            out[self.chart] = self._chart_update(view)
            out[self.dl_readme] = gr.update(value=self.downloads.write(view.readme, "README.md"),
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
        out[comps["language"]] = gr.update(value=list(f.language), choices=choices_with(language_choices(), f.language))
        out[comps["tags"]] = gr.update(value=list(f.tags), choices=list(f.tags))
        out[comps["datasets"]] = gr.update(value=list(f.datasets), choices=list(f.datasets))
        out[comps["base_model"]] = gr.update(value=list(f.base_model),
                                             choices=choices_with(sorted(known_models().values()), f.base_model))
        out[comps["license"]] = gr.update(value=f.license or None)
        out[comps["pipeline_tag"]] = gr.update(value=f.pipeline_tag or None)
        out[comps["hyperparameters"]] = gr.update(value=table_frame(HYPER_HEADERS, f.hyperparameters))
        out[comps["benchmarks"]] = gr.update(value=table_frame([*BENCH_FIXED, *f.bench_columns], f.bench_rows))
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

    def _load(self, loaded: Loaded, override: bool, spec_yaml: str | None = None,
              original: str | None = None) -> dict:
        """Updates that replace the spec with a new starting point (the replaced one can be restored)."""
        view = render_view(loaded.spec_yaml)
        new_original = loaded.original if loaded.original is not None else view.readme
        out = {self.spec: loaded.spec_yaml, self.original: new_original, self.status: loaded.message,
               **self._views(loaded.spec_yaml, new_original, override)}
        if spec_yaml:
            out[self.previous] = (spec_yaml, original)
            out[self.undo_btn] = gr.update(visible=True)
        if view.data is not None:
            out.update(self._form_updates(view.data))
            out[self.push_repo] = str(view.data.get("repo_id") or "")
            out[self.bench_this] = str(view.data.get("model_name") or "")
        return out

    def on_load(self, choice: str, override: bool, spec_yaml: str | None = None, original: str | None = None) -> dict:
        """Start from the empty card or an example spec."""
        try:
            return self._load(load_start(choice), override, spec_yaml, original)
        except StudioInputError as exc:
            return {self.status: f"✖ {exc}"}

    def on_readme_upload(self, path: str | None, override: bool, spec_yaml: str | None = None,
                         original: str | None = None) -> dict:
        """Import an uploaded README.md through the round trip (a bad upload keeps everything)."""
        try:
            text = read_upload(path, "the README", self.settings.max_upload_bytes)
            return self._load(import_readme(text), override, spec_yaml, original)
        except StudioInputError as exc:
            return {self.status: f"✖ The README was not imported: {exc}. Nothing else changed."}

    def on_spec_upload(self, path: str | None, override: bool, spec_yaml: str | None = None,
                       original: str | None = None) -> dict:
        """Load an uploaded spec YAML (a bad upload keeps everything)."""
        try:
            text = read_upload(path, "the spec", self.settings.max_upload_bytes)
            return self._load(import_spec(text), override, spec_yaml, original)
        except StudioInputError as exc:
            return {self.status: f"✖ The spec was not loaded: {exc}. Nothing else changed."}

    def on_undo(self, previous: tuple[str, str | None] | None, override: bool) -> dict:
        """Bring back the spec the last load replaced."""
        if not previous:
            return {self.undo_btn: gr.update(visible=False)}
        spec_yaml, original = previous
        out = self._load(Loaded(spec_yaml, original, "Restored the previous spec."), override)
        out[self.original] = original
        out[self.previous] = None
        out[self.undo_btn] = gr.update(visible=False)
        return out

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


"""python -m cards: build, check, import, schema, evals, merge, training, preview, diff, push.

Exit status: 0 fine, 1 when check (or merge) finds errors, 2 for bad usage or unusable input.
Errors become one-line messages here and nowhere else; no traceback is ever printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cards.errors import CardError
from cards.findings import Finding, has_errors, sort_findings
from cards.safeyaml import dump_yaml, read_text

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _out(text: str, path: str | None) -> None:
    """Write text to a file, or to stdout when no path is given."""
    if path and path != "-":
        Path(path).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _report(findings: list[Finding], as_json: bool = False) -> None:
    """Findings as lines on stderr (or JSON on stdout)."""
    if as_json:
        errors = sum(f.severity == "error" for f in findings)
        warnings = sum(f.severity == "warning" for f in findings)
        payload = {"errors": errors, "warnings": warnings, "findings": [f.as_dict() for f in findings]}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    for f in sort_findings(findings):
        print(f.as_text(), file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    """Build a README from a spec (with --update: regenerate the managed sections of the existing output in place)."""
    from cards.check import check_card
    from cards.render import build_card, update_card
    from cards.specio import load_spec_file

    spec = load_spec_file(args.spec)
    out = Path(args.output) if args.output and args.output != "-" else None
    if args.update:
        if out is None or not out.exists():
            raise CardError("--update needs -o pointing at an existing README")
        text, notes = update_card(read_text(out), spec)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    else:
        text = build_card(spec)
    _out(text, args.output)
    findings = check_card(text)
    _report([f for f in findings if f.severity != "info"])
    if out is not None:
        print(f"wrote {out} ({len(text.encode())} bytes)", file=sys.stderr)
    return EXIT_FINDINGS if args.strict and has_errors(findings) else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Check a README; exit 1 when there is an error."""
    from cards.check import check_card

    findings = check_card(read_text(args.readme))
    _report(findings, args.json)
    if not args.json:
        errors = sum(f.severity == "error" for f in findings)
        print(f"{args.readme}: {errors} error(s), {len(findings) - errors} other finding(s)", file=sys.stderr)
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Import a README as a spec."""
    from cards.importer import import_card_report
    from cards.specio import dump_spec

    result = import_card_report(read_text(args.readme))
    _out(dump_spec(result.spec), args.output)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the spec's JSON schema."""
    from cards.specio import spec_schema

    _out(json.dumps(spec_schema(), indent=2, ensure_ascii=False), None)
    return EXIT_OK


def _pairs(items: list[str], what: str) -> dict[str, str]:
    """'key=value' arguments as a dict."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise CardError(f"{what} {item!r} must look like KEY=VALUE")
        out[key] = value
    return out


def cmd_evals(args: argparse.Namespace) -> int:
    """A comparison table from lm-evaluation-harness results files."""
    from cards.api import evals_table

    texts = {Path(f).name: read_text(f) for f in args.files}
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    table = evals_table(texts, names, _pairs(args.metric, "--metric"), args.subtasks, args.stderr)
    if args.format == "json":
        payload = {"rows": table.rows, "chart": table.chart, "findings": [f.as_dict() for f in table.findings]}
        _out(json.dumps(payload, indent=2, ensure_ascii=False), None)
    else:
        _out(table.markdown, None)
        _report(table.findings)
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    """The merge section and the metadata a mergekit config implies."""
    from cards.api import merge_section

    section = merge_section(read_text(args.config), _pairs(args.map, "--map"))
    if args.format == "json":
        payload = {"markdown": section.markdown, "metadata": section.metadata,
                   "findings": [f.as_dict() for f in section.findings]}
        _out(json.dumps(payload, indent=2, ensure_ascii=False), None)
    else:
        _out(section.markdown + "\nMetadata this merge implies:\n\n" + dump_yaml(section.metadata), None)
        _report(section.findings)
    return EXIT_FINDINGS if has_errors(section.findings) else EXIT_OK


def cmd_training(args: argparse.Namespace) -> int:
    """Hyperparameters from a TrainingArguments JSON or axolotl YAML, as spec YAML."""
    from cards.training_import import import_training

    result = import_training(read_text(args.file), Path(args.file).name)
    data: dict = {"hyperparameters": result.hyperparameters.model_dump(exclude_none=True)}
    if result.datasets:
        data["datasets"] = result.datasets
    if result.base_model:
        data["base_model"] = result.base_model
    _out(dump_yaml(data), None)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    """Sanitised HTML of a README."""
    from cards.preview import render_preview

    _out(render_preview(read_text(args.readme)), args.output)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """Unified diff of two READMEs (exit 1 when they differ)."""
    from cards.preview import diff_cards

    diff = diff_cards(read_text(args.old), read_text(args.new), args.old, args.new)
    if diff:
        sys.stdout.write(diff)
    return EXIT_FINDINGS if diff else EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    """Upload README.md to a Hub model repo."""
    from cards.hub import push_card

    result = push_card(read_text(args.readme), args.repo, create_pr=args.create_pr, dry_run=args.dry_run)
    print(result.message, file=sys.stderr)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="python -m cards", description="Build, check and read Hugging Face model cards.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build README.md from a spec")
    b.add_argument("spec")
    b.add_argument("-o", "--output", help="README path (default stdout)")
    b.add_argument("--update", action="store_true",
                   help="keep the existing output and replace only its managed sections (and metadata keys) in place")
    b.add_argument("--strict", action="store_true", help="exit 1 when the built card has check errors")
    b.set_defaults(func=cmd_build)
    c = sub.add_parser("check", help="check a README offline")
    c.add_argument("readme")
    c.add_argument("--json", action="store_true", help="machine-readable findings on stdout")
    c.set_defaults(func=cmd_check)
    i = sub.add_parser("import", help="read a README back into a spec")
    i.add_argument("readme")
    i.add_argument("-o", "--output", help="spec path (default stdout)")
    i.set_defaults(func=cmd_import)
    s = sub.add_parser("schema", help="print the spec's JSON schema")
    s.set_defaults(func=cmd_schema)
    e = sub.add_parser("evals", help="comparison table from lm-evaluation-harness results JSON files")
    e.add_argument("files", nargs="+")
    e.add_argument("--names", help="comma-separated row names, one per file")
    e.add_argument("--format", choices=("markdown", "json"), default="markdown")
    e.add_argument("--metric", action="append", metavar="TASK=METRIC[,FILTER]", help="override a headline metric")
    e.add_argument("--subtasks", action="store_true", help="include subtasks of groups")
    e.add_argument("--stderr", action="store_true", help="show ± stderr")
    e.set_defaults(func=cmd_evals)
    m = sub.add_parser("merge", help="merge section and metadata from a mergekit YAML")
    m.add_argument("config")
    m.add_argument("--map", action="append", metavar="PATH=ORG/NAME", help="Hub id for a local model path")
    m.add_argument("--format", choices=("markdown", "json"), default="markdown")
    m.set_defaults(func=cmd_merge)
    t = sub.add_parser("training", help="hyperparameters from a TrainingArguments JSON or axolotl YAML")
    t.add_argument("file")
    t.set_defaults(func=cmd_training)
    v = sub.add_parser("preview", help="sanitised HTML preview of a README")
    v.add_argument("readme")
    v.add_argument("-o", "--output")
    v.set_defaults(func=cmd_preview)
    d = sub.add_parser("diff", help="unified diff between two READMEs")
    d.add_argument("old")
    d.add_argument("new")
    d.set_defaults(func=cmd_diff)
    u = sub.add_parser("push", help="upload a README to a Hub model repo (token: HF_TOKEN or hf auth login)")
    u.add_argument("readme")
    u.add_argument("--repo", required=True, metavar="ORG/NAME")
    u.add_argument("--create-pr", action="store_true")
    u.add_argument("--dry-run", action="store_true")
    u.set_defaults(func=cmd_push)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except CardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI never shows a traceback; say what failed and how to report it
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report this with the command you ran)",
              file=sys.stderr)
        return EXIT_USAGE

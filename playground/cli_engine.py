"""Engine commands for the CLI: `generate`, `demo-models`, `estimate` (registered on import)."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from playground.cli import command, read_messages
from playground.errors import LineupError
from playground.events import EventKind, GenerationEvent

SAMPLING_FLAGS = (
    ("temperature", float),
    ("top_p", float),
    ("top_k", int),
    ("min_p", float),
    ("typical_p", float),
    ("repetition_penalty", float),
    ("no_repeat_ngram_size", int),
    ("max_new_tokens", int),
    ("seed", int),
)


def _generate_args(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="catalog id or local model folder")
    which.add_argument("--models", help="comma-separated ids/folders to run side by side (1-4)")
    which.add_argument("--replay", metavar="FILE", help="re-run a replay record and compare the outputs")
    p.add_argument("--format", help="prompt format id (comma-separated for --models; default: the catalog's)")
    p.add_argument("--system", help="system message")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--user", help="the user message")
    src.add_argument("--messages", help="a JSON file with a list of {role, content} messages")
    p.add_argument("--preset", help="sampling preset id (flags below override it)")
    for name, kind in SAMPLING_FLAGS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None)
    p.add_argument("--stop", action="append", default=None, help="extra stop string (repeatable)")
    p.add_argument("--quantization", default="auto", help="auto (nf4 on CUDA, fp32 on CPU), nf4, int8, bf16, fp16, fp32")
    p.add_argument("--save-replay", metavar="FILE", help="write a replay record of this run")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")


def _options(args: argparse.Namespace):
    from playground.sampling import SamplingOptions, get_preset

    base = get_preset(args.preset).options() if args.preset else SamplingOptions()
    changes = {name: getattr(args, name) for name, _ in SAMPLING_FLAGS if getattr(args, name) is not None}
    if args.stop:
        changes["stop"] = tuple(args.stop)
    return SamplingOptions.parse(base.model_dump(), **changes)


def _column_json(ev: GenerationEvent, prompt: str | None = None, seed: int | None = None) -> dict:
    d = {
        "column": ev.column,
        "model": ev.model_id,
        "text": ev.text,
        "stop_reason": str(ev.stop_reason) if ev.stop_reason else None,
        "error": ev.error,
        "metrics": {k: getattr(ev, k) for k in ("prompt_tokens", "generated_tokens", "ttft_s", "tokens_per_s", "elapsed_s")},
        "seed": seed,
        "prompt": prompt,
    }
    if ev.rationale is not None or ev.answer is not None:
        d |= {"rationale": ev.rationale, "answer": ev.answer}
    return d


def _metrics_line(ev: GenerationEvent) -> str:
    tps = f"{ev.tokens_per_s:.1f} tok/s" if ev.tokens_per_s else "- tok/s"
    ttft = f"ttft {ev.ttft_s * 1000:.0f} ms" if ev.ttft_s is not None else "ttft -"
    return f"[{ev.model_id}] {ev.stop_reason}: {ev.prompt_tokens} prompt + {ev.generated_tokens} generated tokens, {ttft}, {tps}"


@command("generate", "generate with one model, or several side by side")(_generate_args)
def cmd_generate(args: argparse.Namespace) -> int:
    from playground.side_by_side import ColumnChoice, prepare_columns, run_side_by_side

    if args.replay:
        return _run_replay(args)
    if not (args.user or args.messages):
        raise LineupError("give the conversation with --user TEXT or --messages FILE")
    names = [args.model] if args.model else [m.strip() for m in args.models.split(",") if m.strip()]
    formats = (args.format or "").split(",") if args.format else [None] * len(names)
    if len(formats) == 1 and len(names) > 1:
        formats = formats * len(names)
    if len(formats) != len(names):
        raise LineupError(f"--format lists {len(formats)} formats for {len(names)} models")
    choices = [ColumnChoice(n, f or None, args.quantization) for n, f in zip(names, formats, strict=True)]
    prepared = prepare_columns(choices, read_messages(args), _options(args))
    cancel = threading.Event()
    finals: dict[int, GenerationEvent] = {}
    single = len(prepared) == 1
    try:
        for ev in run_side_by_side(prepared, cancel):
            if ev.final:
                finals[ev.column] = ev
            if args.json:
                continue
            _print_event(ev, single)
    except KeyboardInterrupt:
        cancel.set()
        raise
    requests = [c.request for c in prepared if c.request is not None]
    if args.save_replay and requests:
        from playground.pool import default_pool
        from playground.replay import build_record

        build_record(requests, finals.values(), default_pool()).save(args.save_replay)
    if args.json:
        by_col = {c.column: c for c in prepared}
        rows = [
            _column_json(finals[c], by_col[c].request.prompt if by_col[c].request else None, by_col[c].request.options.seed if by_col[c].request else None)
            for c in sorted(finals)
        ]
        print(json.dumps(rows[0] if single else {"columns": rows}, indent=2))
    return 1 if any(e.kind == EventKind.ERROR for e in finals.values()) else 0


def _print_event(ev: GenerationEvent, single: bool) -> None:
    """Stream one model's text to stdout; for several, print each column when it ends."""
    if ev.kind == EventKind.STATUS:
        print(f"[{ev.model_id or ev.column}] {ev.status}", file=sys.stderr)
    elif ev.kind == EventKind.TOKEN and single:
        sys.stdout.write(ev.delta)
        sys.stdout.flush()
    elif ev.kind == EventKind.ERROR:
        print(f"[{ev.model_id or ev.column}] error: {ev.error}", file=sys.stderr)
    elif ev.kind == EventKind.DONE:
        if single:
            sys.stdout.write("\n")
        else:
            print(f"=== column {ev.column}: {ev.model_id} ===\n{ev.text}\n")
        print(_metrics_line(ev), file=sys.stderr)


def _run_replay(args: argparse.Namespace) -> int:
    from playground.replay import ReplayRecord, compare, replay

    record = ReplayRecord.load(args.replay)
    again = replay(record)
    diffs = compare(record, again)
    if args.save_replay:
        again.save(args.save_replay)
    if args.json:
        print(json.dumps({"same": not diffs, "differences": diffs, "record": json.loads(again.to_json())}, indent=2))
    else:
        for col in again.columns:
            print(f"=== column {col.column}: {col.model_id} ({col.stop_reason}) ===\n{col.output}\n")
        print("outputs match the record" if not diffs else "outputs differ:\n  " + "\n  ".join(diffs), file=sys.stderr)
    return 0 if not diffs else 1


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", help="output folder (default: $LINEUP_DEMO_DIR or ~/.cache/lineup/demo-models)")
    p.add_argument("--force", action="store_true", help="rebuild even when the build is current")
    p.add_argument("--json", action="store_true", help="print the build report as JSON")


@command("demo-models", "build the tiny offline demo models (deterministic, seconds)")(_demo_args)
def cmd_demo_models(args: argparse.Namespace) -> int:
    from pathlib import Path

    from playground.catalog import demo_dir
    from playground.demo import build_demo_models

    root = Path(args.dir).expanduser() if args.dir else demo_dir()
    reports = build_demo_models(root, force=args.force, progress=None if args.json else lambda f, m: print(m, file=sys.stderr))
    if args.json:
        print(json.dumps({"dir": str(root), "built": reports}, indent=2))
    elif not reports:
        print(f"demo models in {root} are up to date")
    else:
        for r in reports:
            print(f"{r['name']:<9} {r['architecture']:<9} {r['format']:<11} {r['parameters']:>8} params  loss {r['final_loss']:.3f}  {r['seconds']:.1f} s")
        print(f"built into {root}")
    return 0


def _estimate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, action="append", help="catalog id or folder (repeatable)")
    p.add_argument("--quantization", default="auto")
    p.add_argument("--json", action="store_true")


@command("estimate", "estimate the memory models need and whether they fit together")(_estimate_args)
def cmd_estimate(args: argparse.Namespace) -> int:
    from playground.catalog import resolve_model
    from playground.pool import ModelPool

    pool = ModelPool()
    specs = [resolve_model(m) for m in args.model]
    plan = pool.plan(specs, args.quantization)
    if args.json:
        rows = [{"model": e.model_id, "quantization": e.quantization, "total_bytes": e.total_bytes, "weights_bytes": e.resident_bytes, "kv_cache_bytes": e.kv_cache_bytes, "approximate": e.approximate} for e in plan.estimates]
        print(json.dumps({"device": pool.device, "budget_bytes": plan.budget_bytes, "together": plan.together, "message": plan.message, "models": rows}, indent=2))
    else:
        for e in plan.estimates:
            print(f"{e.model_id}: {e.describe()}")
        print(plan.message)
    return 0

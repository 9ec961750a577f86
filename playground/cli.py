"""Command line for the playground: `python -m playground COMMAND`.

Each command is a small function registered in COMMANDS; typed LineupErrors become a one-line
message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from playground.errors import LineupError

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help_text: str):
    """Register a subcommand: the decorated function adds its arguments, `run` does the work."""

    def wrap(add_args: Callable[[argparse.ArgumentParser], None]):
        def with_run(run: Callable[[argparse.Namespace], int]):
            COMMANDS[name] = (add_args, run)
            run.help_text = help_text  # type: ignore[attr-defined]
            return run

        return with_run

    return wrap


def _formats_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")


@command("formats", "list the registered prompt formats")(_formats_args)
def cmd_formats(args: argparse.Namespace) -> int:
    from playground.formats import list_formats

    rows = [{"id": f.id, "label": f.label, "stop_strings": list(f.stop_strings), "source": f.source} for f in list_formats()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["id"]) for r in rows)
        for r in rows:
            print(f"{r['id']:<{width}}  {r['label']}")
    return 0


def _render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", required=True, help="format id (see `formats`)")
    p.add_argument("--system", help="system message")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--user", help="the user message")
    src.add_argument("--messages", help="a JSON file with a list of {role, content} messages")
    p.add_argument("--no-generation-prompt", action="store_true", help="do not append the assistant prompt")


def read_messages(args: argparse.Namespace) -> list[dict]:
    """Messages from --messages FILE or from --system/--user."""
    if getattr(args, "messages", None):
        try:
            with open(args.messages, encoding="utf-8") as fh:
                messages = json.load(fh)
        except OSError as exc:
            raise LineupError(f"--messages: cannot read {args.messages}: {exc.strerror}") from exc
        except ValueError as exc:
            raise LineupError(f"--messages: {args.messages} is not valid JSON: {exc}") from exc
        except RecursionError:
            raise LineupError(f"--messages: {args.messages} is nested too deeply to be a list of messages") from None
        if not isinstance(messages, list):
            raise LineupError("--messages: the file must hold a JSON list of {role, content} objects")
    else:
        messages = [{"role": "user", "content": args.user}]
    if getattr(args, "system", None):
        messages = [{"role": "system", "content": args.system}, *messages]
    return messages


@command("render", "print the exact prompt a format renders")(_render_args)
def cmd_render(args: argparse.Namespace) -> int:
    from playground.formats import get_format

    fmt = get_format(args.format)
    sys.stdout.write(fmt.render(read_messages(args), add_generation_prompt=not args.no_generation_prompt))
    sys.stdout.flush()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="python -m playground", description="Lineup playground tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_args, run) in COMMANDS.items():
        p = sub.add_parser(name, help=getattr(run, "help_text", ""))
        add_args(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run, turn LineupErrors into messages.

    Args:
        argv: arguments (default: sys.argv[1:]).

    Returns:
        The exit status.
    """
    _load_plugins()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except LineupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback: say what failed and how to report it
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report this with the command you ran)",
              file=sys.stderr)
        return 2


def _load_plugins() -> None:
    """Import the modules that register further commands (engine, demo models)."""
    import importlib

    for mod in ("playground.cli_engine",):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise

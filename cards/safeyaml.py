"""Safe YAML and text input: size caps, YAML 1.2 booleans, and refusal of alias bombs and deep nesting.

Model-card front matter is read by the Hub with YAML 1.2 rules, where ``no``, ``yes``, ``on`` and
``off`` are strings (``language: no`` is Norwegian). PyYAML follows YAML 1.1 and turns them into
booleans, so this loader keeps only ``true``/``false`` as booleans and leaves dates as strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cards.errors import InputError, YamlError

MAX_INPUT_BYTES = 5 * 1024 * 1024  # README, spec, results or config file
MAX_DEPTH = 40  # nesting of mappings/sequences
MAX_ALIASES = 50  # '*name' references in one document
MAX_EXPANDED_NODES = 200_000  # nodes once every alias is expanded (billion-laughs guard)

# Words that YAML 1.1 (PyYAML) reads as booleans but YAML 1.2 (the Hub) reads as strings.
YAML11_BOOL_WORDS = frozenset(
    w for base in ("y", "n", "yes", "no", "on", "off") for w in (base, base.capitalize(), base.upper())
)


class _GuardedComposer(Composer):
    """A composer that counts aliases, refuses recursive ones and limits nesting depth."""

    def __init__(self) -> None:
        super().__init__()
        self._aliases = 0
        self._depth = 0
        self._open_anchors: list[str | None] = []

    def compose_node(self, parent, index):  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if event.anchor in self._open_anchors:
                raise _Refused(f"alias *{event.anchor} refers to a collection that contains it", event)
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (*name)", event)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nesting deeper than {MAX_DEPTH} levels", event)
        anchor = event.anchor if isinstance(event, CollectionStartEvent) else None
        self._open_anchors.append(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open_anchors.pop()
            self._depth -= 1


class _Refused(Exception):
    """Raised inside the composer; converted to YamlError with the line."""

    def __init__(self, problem: str, event) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = event.start_mark.line + 1 if event is not None and event.start_mark else None


class Yaml12Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _GuardedComposer,
                   yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """SafeLoader with YAML 1.2 booleans, no timestamp resolution and bomb guards."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _GuardedComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_YAML11_ONLY = ("bool", "int", "float", "timestamp")
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# The YAML 1.2 core schema: no yes/no/on/off booleans, no base-60 numbers, '1e-5' is a float.
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
              r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     "-+0123456789."),
):
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Number of nodes once aliases are expanded (shared nodes counted at every use)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[key] = size
    return size


def _duplicate_key(root: Node) -> tuple[str, int, int] | None:
    """The first key that a mapping repeats, as (key, first line, repeat line), or None.

    PyYAML keeps the last value silently; the Hub's YAML parser rejects the whole block.
    """
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            lines: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value != "<<":
                    line = key.start_mark.line + 1
                    if key.value in lines:
                        return key.value, lines[key.value], line
                    lines[key.value] = line
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return None


def check_size(text: str | bytes, what: str) -> None:
    """Refuse inputs over MAX_INPUT_BYTES (or text with lone surrogates) with a message that names the input."""
    if isinstance(text, str):
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a JSON "\ud800" escape
            raise InputError(f"{what} holds invalid Unicode (a lone surrogate) at character {exc.start}; "
                             "remove it") from None
    else:
        size = len(text)
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"{what} is {size / 1e6:.1f} MB; the limit is {MAX_INPUT_BYTES / 1e6:.0f} MB. "
            "Trim it (e.g. drop per-sample logs from results files) and try again"
        )


def decode_text(data: bytes, what: str) -> str:
    """Decode UTF-8 (dropping a BOM) and normalise line endings to '\\n'.

    Args:
        data: raw file bytes.
        what: a name for the input, used in messages.

    Returns:
        The text; raises InputError for oversized or non-UTF-8 input.
    """
    check_size(data, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
                         "save it as UTF-8") from None
    if "\x00" in text:
        raise InputError(f"{what} looks like a binary file (a NUL byte at character {text.index(chr(0))}); "
                         "give a UTF-8 text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path, what: str | None = None) -> str:
    """Read a text input file with the size cap.

    Args:
        path: the file to read.
        what: a name for messages (defaults to the path).

    Returns:
        The decoded text; raises InputError when missing, too large or not UTF-8.
    """
    p = Path(path)
    label = what or str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({exc.strerror})") from None
    if p.is_dir():
        raise InputError(f"{label} is a directory; give a file")
    if size > MAX_INPUT_BYTES:
        raise InputError(f"{label} is {size / 1e6:.1f} MB; the limit is {MAX_INPUT_BYTES / 1e6:.0f} MB")
    return decode_text(p.read_bytes(), label)


def load_yaml(text: str, what: str, line_offset: int = 0) -> Any:
    """Parse one YAML document safely (YAML 1.2 booleans, bomb guards).

    Args:
        text: the YAML text.
        what: a name for messages, e.g. 'front matter' or 'spec.yaml'.
        line_offset: added to reported line numbers (front matter starts on line 2).

    Returns:
        The Python value; raises YamlError naming the line and the problem.
    """
    check_size(text, what)
    loader = None
    try:
        loader = Yaml12Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_EXPANDED_NODES:
            raise YamlError(what, f"aliases expand to {size:,} nodes (limit {MAX_EXPANDED_NODES:,})",
                            None, "remove the anchors (&name) and aliases (*name)")
        dupe = _duplicate_key(node)
        if dupe is not None:
            key, first, again = dupe
            raise YamlError(what, f"duplicate key '{key}' (first on line {first + line_offset})", again + line_offset,
                            "keep one of them: YAML parsers disagree on which one wins, and the Hub rejects the block")
        return loader.construct_document(node)
    except YamlError:
        raise
    except _Refused as exc:
        line = exc.line + line_offset if exc.line else None
        raise YamlError(what, f"refused: {exc.problem}", line, "simplify the YAML") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(what, f"YAML does not parse: {problem}", line, "fix the YAML syntax") from None
    except yaml.reader.ReaderError as exc:  # a control character such as NUL, found before parsing starts
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        char = f"{exc.character:#06x}" if isinstance(exc.character, int) else repr(exc.character)
        raise YamlError(what, f"YAML does not parse: character {char} is not allowed in YAML", line,
                        "remove the control character (is this a binary file?)") from None
    except yaml.YAMLError as exc:
        raise YamlError(what, f"YAML does not parse: {exc}") from None
    except RecursionError:
        raise YamlError(what, "refused: nesting too deep", None, "simplify the YAML") from None
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit conversion limit
        raise YamlError(what, f"a value cannot be read: {exc}".split("; use sys.")[0], None,
                        "quote long numbers or shorten them") from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml11_bool_traps(text: str, line_offset: int = 0) -> list[tuple[int, str]]:
    """Find plain scalars that PyYAML would read as booleans but the Hub reads as strings.

    Args:
        text: YAML text (already known to parse).
        line_offset: added to the reported line numbers.

    Returns:
        (line, word) pairs, e.g. (3, 'no') for an unquoted ``- no``.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    found: list[tuple[int, str]] = []
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.style is None and node.value in YAML11_BOOL_WORDS:
                found.append((node.start_mark.line + 1 + line_offset, node.value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(v for _, v in node.value)
    return sorted(found)


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as literal blocks and indents lists under keys."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):  # type: ignore[override]
        return super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, data: str):
    """Literal block style for multi-line strings (PyYAML falls back to quotes when it must)."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """Dump data as readable block YAML, keys in their given order, unicode kept.

    Args:
        data: plain Python data (dicts, lists, scalars).

    Returns:
        YAML text ending with a newline; strings PyYAML would misread (e.g. 'no') are quoted.
    """
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)

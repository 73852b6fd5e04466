"""One strict, bounded YAML loader for every YAML file auditkit reads (policies, packs, contracts).

``yaml.safe_load`` runs no code, but it is not safe enough for a gate that must fail closed:

* a **duplicate key** is accepted and the last one wins, so a second ``rules:`` silently
  drops every earlier rule and a second ``min:`` weakens a threshold;
* **aliases** are shared, not copied, so a few hundred bytes of nested ``*a`` stand for
  gigabytes of data that any ``repr``, copy or walk over the result then pays for;
* **nesting** is composed recursively, so a deep document ends in ``RecursionError`` (and the
  libyaml-based ``CSafeLoader`` crashes the interpreter outright);
* a **number** is converted however long it is: a 5000-digit integer raises ``ValueError``
  inside the constructor (Python's int/str conversion limit), a long sexagesimal ``1:2:3:...``
  takes quadratic time, and ``2024-13-45`` raises from ``datetime``;
* ``<<`` **merge keys** fold one mapping into another by rules few readers know (which of two
  merged ``min:`` wins?).

:func:`load_yaml` refuses all of these with one error of the caller's class that names the
file, the line and, where there is one, the key path (``rules[1].min``). Everything else is
YAML 1.1 as ``yaml.safe_load`` reads it; aliases of whole values stay allowed within a budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from .errors import AuditkitError

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_NUMBER_CHARS", "load_yaml"]

#: The deepest nesting of lists and mappings accepted, aliases expanded.
MAX_DEPTH = 64
#: The most values (scalars, lists, mappings) a document may hold once every alias is expanded.
MAX_NODES = 100_000
#: The longest number accepted, in characters as written.
MAX_NUMBER_CHARS = 1000

_PREFIX = "tag:yaml.org,2002:"
_MERGE = _PREFIX + "merge"
_NUMBER_TAGS = (_PREFIX + "int", _PREFIX + "float")
#: The tags a plain YAML document resolves to; anything else (``!!binary``, ``!!set``,
#: ``!!omap``, ``!!python/...``, local ``!tags``) has no place in an auditkit file.
ALLOWED_TAGS = frozenset(_PREFIX + t for t in ("null", "bool", "int", "float", "str", "timestamp", "seq", "map"))


_MERGE_REFUSED = ("'<<' merge keys are not supported in auditkit files (which of two merged keys wins is "
                  "easy to misread); write the keys out (an alias of a whole value, *name, is fine)")


class _Refused(Exception):
    """A document the loader will not build; carries the line and key path for the message."""

    def __init__(self, message: str, mark=None, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark is not None else None
        self.path = path


def _segment(key_node) -> str:
    if isinstance(key_node, ScalarNode):
        text = str(key_node.value)
        return text if len(text) <= 60 else text[:59] + "…"
    return "?"


class _StrictComposer(Composer):
    """Composes nodes while counting expanded size and depth, and refusing recursive aliases."""

    def __init__(self, max_nodes: int, max_depth: int) -> None:
        Composer.__init__(self)
        self._max_nodes = max_nodes
        self._max_depth = max_depth
        self._depth = 0  # collections open around the node being composed
        self._total = 0  # values composed so far, every alias counted as what it expands to
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self._open: set[str] = set()  # anchors of collections still being composed
        self._paths: dict[int, str] = {}  # id(node) -> key path where it was written
        self._path_stack: list[str] = [""]

    def _child_path(self, parent, index) -> str:
        base = self._path_stack[-1]
        if parent is None:
            return ""
        if isinstance(index, int):
            return f"{base}[{index}]"
        if index is None:  # a mapping key itself
            return base
        segment = _segment(index)
        return f"{base}.{segment}" if base else segment

    def _count(self, amount: int, mark, path: str) -> None:
        self._total += amount
        if self._total > self._max_nodes:
            raise _Refused(f"holds more than {self._max_nodes:,} values once its aliases (*name) are expanded; "
                           "auditkit refuses documents this large (an alias bomb?) — write the values out or "
                           "use fewer aliases", mark, path)

    def compose_node(self, parent, index):
        path = self._child_path(parent, index)
        event = self.peek_event()
        if self.check_event(AliasEvent):
            if event.anchor in self._open:
                raise _Refused(f"alias '*{_cut(event.anchor)}' is used inside the value it names (a recursive "
                               "structure); write the values out", event.start_mark, path)
            node = Composer.compose_node(self, parent, index)  # raises on an undefined alias
            size, height = self._measure[id(node)]
            self._count(size, event.start_mark, path)
            if self._depth + height > self._max_depth:
                raise _Refused(f"alias '*{_cut(event.anchor)}' nests values more than {self._max_depth} levels deep; "
                               "flatten the document", event.start_mark, path)
            return node
        collection = isinstance(event, (SequenceStartEvent, MappingStartEvent))
        anchor = getattr(event, "anchor", None)
        if collection:
            self._depth += 1
            if self._depth > self._max_depth:
                raise _Refused(f"lists and mappings are nested more than {self._max_depth} levels deep; "
                               "flatten the document", event.start_mark, path)
            if anchor is not None:
                self._open.add(anchor)
        self._path_stack.append(path)
        try:
            node = Composer.compose_node(self, parent, index)
        finally:
            self._path_stack.pop()
            if collection:
                self._depth -= 1
                self._open.discard(anchor)
        self._paths[id(node)] = path
        if isinstance(node, SequenceNode):
            children = [self._measure[id(child)] for child in node.value]
        elif isinstance(node, MappingNode):
            children = [self._measure[id(part)] for pair in node.value for part in pair]
        else:
            children = None
        if children is None:
            self._measure[id(node)] = (1, 0)
        else:
            self._measure[id(node)] = (1 + sum(size for size, _ in children),
                                       1 + max((height for _, height in children), default=0))
        self._count(1, event.start_mark, path)
        return node


class _StrictConstructor(SafeConstructor):
    """SafeConstructor that refuses duplicate keys, merge keys, odd tags and oversized numbers."""

    def _path(self, node) -> str:
        return self._paths.get(id(node), "")

    def construct_object(self, node, deep=False):
        if node.tag not in ALLOWED_TAGS:
            if node.tag == _MERGE:
                raise _Refused(_MERGE_REFUSED, node.start_mark, self._path(node))
            raise _Refused(f"the tag '{_cut(node.tag.replace(_PREFIX, '!!'))}' is not allowed here; auditkit files hold plain text, numbers, "
                           "true/false, dates, lists and mappings", node.start_mark, self._path(node))
        if node.tag in _NUMBER_TAGS and isinstance(node, ScalarNode) and len(node.value) > MAX_NUMBER_CHARS:
            raise _Refused(f"a number written with {len(node.value):,} characters is too long; auditkit "
                           f"reads numbers of at most {MAX_NUMBER_CHARS:,} characters", node.start_mark,
                           self._path(node))
        try:
            return SafeConstructor.construct_object(self, node, deep=deep)
        except (_Refused, yaml.YAMLError):
            raise
        except Exception as exc:  # noqa: BLE001 -- int/str digit limit, a date like 2024-13-45, ...
            reason = str(exc).split("\n")[0][:160] or type(exc).__name__
            raise _Refused(f"the value {_excerpt(node)} cannot be read ({reason}); write a plain value",
                           node.start_mark, self._path(node)) from None

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise _Refused("expected a mapping", node.start_mark, self._path(node))
        where = self._path(node)
        seen: dict[Any, tuple[int, str]] = {}
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Refused(_MERGE_REFUSED, key_node.start_mark, where)
            if not isinstance(key_node, ScalarNode):
                raise _Refused("a key must be a single value (text), not a list or a mapping",
                               key_node.start_mark, where)
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise _Refused("a key must be a single value (text)", key_node.start_mark, where) from None
            line = key_node.start_mark.line + 1
            if key in seen:
                first_line, first_text = seen[key]
                full = f"{where}.{_segment(key_node)}" if where else _segment(key_node)
                spelled = "" if first_text == key_node.value else \
                    f", written '{_cut(first_text)}' and '{_cut(key_node.value)}', which YAML reads as the same key"
                raise _Refused(f"key '{full}' appears twice (lines {first_line} and {line}{spelled}); keep one",
                               None, "")
            seen[key] = (line, key_node.value)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _cut(text: Any, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _excerpt(node) -> str:
    if isinstance(node, ScalarNode):
        return f"'{_cut(node.value)}'"
    return "here"


@lru_cache(maxsize=8)
def _make_loader(max_nodes: int, max_depth: int):
    try:  # libyaml's event parser: fast, and it does not recurse
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        CParser = None

    if CParser is not None:
        class _Loader(_StrictComposer, CParser, _StrictConstructor, Resolver):
            def __init__(self, text: str) -> None:
                CParser.__init__(self, text)
                _StrictComposer.__init__(self, max_nodes, max_depth)
                _StrictConstructor.__init__(self)
                Resolver.__init__(self)
    else:  # pragma: no cover
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class _Loader(Reader, Scanner, Parser, _StrictComposer, _StrictConstructor, Resolver):
            def __init__(self, text: str) -> None:
                Reader.__init__(self, text)
                Scanner.__init__(self)
                Parser.__init__(self)
                _StrictComposer.__init__(self, max_nodes, max_depth)
                _StrictConstructor.__init__(self)
                Resolver.__init__(self)
    return _Loader


def load_yaml(text: str, source: Any, error_cls: type[AuditkitError] = AuditkitError, *,
              max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document strictly, or raise ``error_cls`` with a one-line message.

    Parameters
    ----------
    text : str
        The document (already decoded; read it with :func:`auditkit.inputs.read_capped`).
    source : str or Path
        Shown at the start of every message (the file's path).
    error_cls : type
        The :class:`~auditkit.errors.AuditkitError` subclass to raise (``PolicyError``, ...).
    max_nodes, max_depth : int
        Bounds on the document with every alias expanded: values in all, and nesting depth.

    Returns
    -------
    The Python value (``None`` for an empty document), as ``yaml.safe_load`` would build it.

    Raises
    ------
    error_cls
        Malformed YAML; a key that appears twice in one mapping (also when two spellings mean the
        same key, such as ``1`` and ``0x1``, or ``true`` and ``yes``); a ``<<`` merge key; a
        tag other than the plain YAML types; a recursive alias; more than ``max_nodes`` values
        or ``max_depth`` levels once aliases are expanded; a number longer than
        ``MAX_NUMBER_CHARS`` characters, or any value the YAML constructor cannot build.
        The message names ``source``, the line and, where known, the key path.
    """
    try:
        loader = _make_loader(max_nodes, max_depth)(text)  # the pure-Python reader checks characters here
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except _Refused as exc:
        where = f"key '{_cut(exc.path, 120)}'" if exc.path else ""
        line = f"line {exc.line}" if exc.line is not None else ""
        place = f"{where} (line {exc.line})" if where and line else where or line
        raise error_cls(f"{source}: {place}: {exc.message}." if place else f"{source}: {exc.message}.") from None
    except yaml.YAMLError as exc:
        raise error_cls(f"{source}: {_describe_yaml_error(exc, text)}.") from None
    except RecursionError:  # pragma: no cover - the depth bound should stop this first
        raise error_cls(f"{source}: is nested too deeply to read; flatten the document.") from None


def _describe_yaml_error(exc: yaml.YAMLError, text: str) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        character = getattr(exc, "character", None)
        # libyaml reports a byte offset, the Python reader a character offset: find the character
        position = text.find(chr(character)) if isinstance(character, int) and 0 <= character < 0x110000 else -1
        if position < 0:
            position = getattr(exc, "position", None)
        where = ""
        if isinstance(position, int) and 0 <= position <= len(text):
            where = f" at line {text.count(chr(10), 0, position) + 1}"
        shown = f" ({character:#x})" if isinstance(character, int) else ""
        return f"malformed YAML{where}: a character YAML does not allow{shown}; remove it or save the file as plain text"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    first = getattr(exc, "context_mark", None)
    if context and context.startswith("found duplicate anchor") and first is not None and mark is not None:
        name = context.split(";")[0][len("found duplicate anchor "):]
        return f"anchor &{_cut(name.strip(chr(39)))} is defined twice (lines {first.line + 1} and {mark.line + 1}); rename one"

    if context and not context.startswith("while"):  # "found duplicate anchor 'x'; first occurrence"
        problem = f"{context}, {problem}"
    return f"malformed YAML{where}: {_cut(problem, 200)}; fix the syntax"

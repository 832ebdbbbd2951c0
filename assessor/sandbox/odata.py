"""The `$filter` subset the emulator understands, parsed into a small AST and evaluated on dicts.

Supported (what the collectors send, plus a little): ``eq``/``ne`` comparisons of a property
with a string, GUID, boolean, number or null literal; ``in (…)``; ``and``/``or``/``not`` and
parentheses; ``collection/any(x: …)`` lambdas over ``assignedPlans`` and ``assignedLicenses``.
Anything else raises :class:`UnsupportedQuery`, which the Graph handler turns into
400 ``Request_UnsupportedQuery`` as Graph does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from assessor.jsontypes import JsonScalar

Item = Mapping[str, object]
"""A filtered entity (a user, a service principal, a role assignment), read by property name."""
Env = Mapping[str, object]
"""The elements bound to the lambda variables in scope (``p`` in ``assignedPlans/any(p: …)``)."""
Predicate = Callable[[Item, Env], bool]
Getter = Callable[[Item, Env], object]


class UnsupportedQuery(ValueError):
    """The query is outside the emulator's (and the collectors') supported subset."""


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])|(?P<number>-?\d+(?:\.\d+)?)(?![\w-])|"
    r"(?P<punct>[(),:])|(?P<name>[A-Za-z_][\w]*(?:/[A-Za-z_][\w]*)*))"
)
_KEYWORDS = {"and", "or", "not", "eq", "ne", "in", "true", "false", "null"}
_OPERATORS = {"eq", "ne", "in"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class FilterExpr:
    """A parsed filter: the predicate, and the top-level properties it references."""

    predicate: Predicate
    properties: frozenset[str]
    advanced: bool

    def __call__(self, item: Item) -> bool:
        return self.predicate(item, {})


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            raise UnsupportedQuery(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        tokens.append(Token(kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], allowed: Mapping[str, frozenset[str] | None]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.allowed = allowed
        self.properties: set[str] = set()
        self.advanced = False
        self.lambda_vars: dict[str, str] = {}

    # ---- token helpers

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise UnsupportedQuery("Invalid filter clause: unexpected end of expression.")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text.lower() != text:
            raise UnsupportedQuery(f"Invalid filter clause: expected '{text}', found '{tok.text}'.")

    def at_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "name" and tok.text.lower() == word

    # ---- grammar

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise UnsupportedQuery(f"Invalid filter clause: unexpected '{self.take().text}'.")
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.at_word("or"):
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda item, env: any(p(item, env) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.at_word("and"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda item, env: all(p(item, env) for p in parts)

    def unary(self) -> Predicate:
        if self.at_word("not"):
            self.take()
            self.advanced = True
            inner = self.unary()
            return lambda item, env: not inner(item, env)
        return self.primary()

    def primary(self) -> Predicate:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            inner = self.or_expr()
            self.expect(")")
            return inner
        path = self.take()
        if path.kind != "name" or path.text.lower() in _KEYWORDS:
            raise UnsupportedQuery(f"Invalid filter clause: unexpected '{path.text}'.")
        if path.text.endswith("/any"):
            return self.lambda_any(path.text[: -len("/any")])
        return self.comparison(path.text)

    def lambda_any(self, collection: str) -> Predicate:
        if "/" in collection or collection not in self.allowed or self.allowed[collection] is None:
            raise UnsupportedQuery(f"Unsupported lambda over '{collection}'.")
        self.properties.add(collection)
        self.advanced = True
        self.expect("(")
        var = self.take()
        if var.kind != "name" or var.text.lower() in _KEYWORDS:
            raise UnsupportedQuery("Invalid lambda variable.")
        self.expect(":")
        self.lambda_vars[var.text] = collection
        body = self.or_expr()
        del self.lambda_vars[var.text]
        self.expect(")")
        name = var.text

        def any_of(item: Item, env: Env) -> bool:
            return any(body(item, {**env, name: element}) for element in _elements(item.get(collection)))

        return any_of

    def resolve(self, path: str) -> Getter:
        head, _, rest = path.partition("/")
        if head in self.lambda_vars:
            sub = self.allowed[self.lambda_vars[head]] or frozenset()
            if not rest or "/" in rest or rest not in sub:
                raise UnsupportedQuery(f"Property '{rest}' is not supported in this lambda.")
            return lambda item, env: _property(env[head], rest)
        if rest or path not in self.allowed or self.allowed[path] is not None:
            raise UnsupportedQuery(f"Unsupported or invalid query filter clause specified for property '{path}'.")
        self.properties.add(path)
        return lambda item, env: item.get(path)

    def literal(self) -> JsonScalar:
        tok = self.take()
        if tok.kind == "string":
            return tok.text[1:-1].replace("''", "'")
        if tok.kind == "guid":
            return tok.text.lower()
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "name" and tok.text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok.text.lower()]
        raise UnsupportedQuery(f"Invalid filter clause: a literal was expected, found '{tok.text}'.")

    def comparison(self, path: str) -> Predicate:
        getter = self.resolve(path)
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind != "name" or op not in _OPERATORS:
            raise UnsupportedQuery(f"Unsupported filter operator '{op_tok.text}'.")
        if op == "in":
            values = self.literal_list()
            return lambda item, env: _norm(getter(item, env)) in values
        value = _norm(self.literal())
        if op == "ne":
            self.advanced = True
            return lambda item, env: _norm(getter(item, env)) != value
        return lambda item, env: _norm(getter(item, env)) == value

    def literal_list(self) -> frozenset[object]:
        self.expect("(")
        values = [_norm(self.literal())]
        while (tok := self.peek()) is not None and tok.text == ",":
            self.take()
            values.append(_norm(self.literal()))
        self.expect(")")
        if len(values) > 15:
            raise UnsupportedQuery("Too many values in an 'in' clause (at most 15).")
        return frozenset(values)


def _norm(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _elements(collection: object) -> Iterable[object]:
    """The elements of a collection property (None or empty: none)."""
    if not collection:
        return ()
    if not isinstance(collection, Iterable):
        raise TypeError(f"a collection property holds {type(collection).__name__}, not a collection")
    return collection


def _property(element: object, name: str) -> object:
    """Property ``name`` of a collection element (an ``assignedPlans`` entry: a mapping)."""
    if not isinstance(element, Mapping):
        raise TypeError(f"a collection element is {type(element).__name__}, not an object")
    return element.get(name)


def parse_filter(text: str, allowed: Mapping[str, frozenset[str] | None]) -> FilterExpr:
    """Parse ``text``. ``allowed`` maps filterable properties to None (scalar) or the set of
    sub-properties usable inside an ``any`` lambda over that collection."""
    if not text.strip():
        raise UnsupportedQuery("Invalid filter clause: empty expression.")
    parser = _Parser(tokenize(text), allowed)
    predicate = parser.parse()
    return FilterExpr(predicate, frozenset(parser.properties), parser.advanced)

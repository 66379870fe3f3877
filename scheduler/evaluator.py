"""A safe evaluator for Cinder's ``goodness_function`` / ``filter_function`` strings.

Backends report these expressions, so they are untrusted text. This module is a
small recursive-descent parser that turns the text into a tree of closures over
a fixed set of operations; nothing is ever handed to Python's ``eval``,
``compile`` or ``ast``. Unknown function names are rejected while parsing.

It follows Cinder's pyparsing grammar (``cinder/scheduler/evaluator``), whose
precedence, from loosest to tightest, is::

    ,            list building (right-associative; feeds max/min)
    or || OR     logical or
    and && AND   logical and
    c ? a : b    ternary
    < <= > >= == != <>   comparisons, chained like Python (1 < 2 < 3)
    not ! NOT    logical not (looser than arithmetic: ``not 0 + 1`` is False)
    + -          addition
    * /          multiplication; ``/`` is always true division
    + -          sign
    ^            power (right-associative; its right side takes no sign)
    abs max min  function application
    atoms        numbers (``12``, ``1.5``), quoted strings, names, ``( ... )``

Cinder quirks kept on purpose, because the simulator must rank pools as Cinder
would:

* ``capabilities.x`` style names (exactly one dot, letters and ``_`` only) are
  looked up in the variables; the value is then passed through ``int()`` first,
  so a reported ``91.8`` reads as ``91``. ``None``, lists and dicts are errors.
* Other bare words are string constants (``iSCSI``), except words ``float()``
  accepts (``inf``, ``nan``). Quote characters are stripped from strings.
* ``and``/``or`` evaluate both sides and return an operand, not a bool.
* A chain ``a and b and c`` only looks at ``a and b``; a chain
  ``c1 ? a : c2 ? b : d`` only looks at ``c1 ? a : c2``.

Not accepted, as in Cinder: ``%``, single ``&`` or ``|`` (Cinder's docs list
them, its parser does not), exponent notation (``1e3``), leading-dot numbers.
Deliberate safety limits where Cinder would carry on, because a backend's text must
never stall the scheduler: text repetition (``'a' * 3``), any integer result
wider than ``MAX_NUMBER_BITS`` (a power, a product, a sum: a float overflows
there anyway) and complex results are errors; expressions are capped in length
and nesting depth, and running out of stack or memory is an error too. Every
error fails the one pool whose function it is, with the reason in the trace.
"""

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

MAX_LENGTH = 4096
# Each level of nesting costs the parser about 14 frames: 32 levels stay far below
# Python's recursion limit even when the caller's stack is already deep.
MAX_DEPTH = 32
MAX_NUMBER_BITS = 1024

Node = Callable[[Mapping[str, Any]], Any]


class EvaluatorError(ValueError):
    """The expression could not be evaluated (Cinder: EvaluatorParseException)."""


class EvaluatorSyntaxError(EvaluatorError):
    """The text is not an expression in Cinder's grammar."""


FUNCTIONS: dict[str, Callable[..., Any]] = {"abs": abs, "max": max, "min": min}

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
}
_KEYWORDS = {"and": "and", "AND": "and", "or": "or", "OR": "or", "not": "not", "NOT": "not"}
_SYMBOLS = {"&&": "and", "||": "or", "!": "not"}
_VARIABLE = re.compile(r"[A-Za-z_]+\.[A-Za-z_]+")
# ASCII digits and pyparsing's default whitespace only, as Cinder's grammar has.
_TOKEN = re.compile(
    r"""(?:
        (?P<num>[0-9]+\.[0-9]+|[0-9]+)
      | (?P<name>[A-Za-z_.]+)
      | (?P<str>"(?:[^"\n\r\\]|""|\\.)*"|'(?:[^'\n\r\\]|''|\\.)*')
      | (?P<op><>|<=|>=|==|!=|&&|\|\||[-+*/^<>!?:,()])
    )""",
    re.VERBOSE,
)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _coerce(value: Any) -> Any:
    """Cinder's EvalConstant conversion: int(), else float(), else unquoted text."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        if isinstance(value, str):
            return value.replace('"', "").replace("'", "")
        return value


class _Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind = kind  # "num", "name", "str", "op" or "end"
        self.text = text
        self.pos = pos


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = _WHITESPACE.match(text).end()  # type: ignore[union-attr]
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise EvaluatorSyntaxError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = m.lastgroup
        word = m.group(kind)
        start = m.start(kind)
        if kind == "name" and word in _KEYWORDS:
            kind, word = "op", _KEYWORDS[word]
        elif kind == "op" and word in _SYMBOLS:
            word = _SYMBOLS[word]
        tokens.append(_Token(kind, word, start))
        pos = _WHITESPACE.match(text, m.end()).end()  # type: ignore[union-attr]
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _fail(message: str) -> EvaluatorError:
    return EvaluatorError(message)


# --- runtime operations: each raises EvaluatorError instead of leaking TypeErrors ---


def _variable(name: str) -> Node:
    namespace, key = name.split(".")

    def lookup(env: Mapping[str, Any]) -> Any:
        try:
            value = env[namespace][key]
        except (KeyError, TypeError, IndexError):
            raise _fail(f"{name} is not available") from None
        try:
            return _coerce(value)
        except (TypeError, OverflowError):
            raise _fail(f"{name} is {value!r}, not a number or text") from None

    return lookup


def _constant(value: Any) -> Node:
    return lambda env: value


def _bounded(value: Any) -> Any:
    """Refuse integers wider than MAX_NUMBER_BITS: each step stays cheap, whatever the text."""
    if type(value) is int and value.bit_length() > MAX_NUMBER_BITS:
        raise OverflowError(f"a number wider than {MAX_NUMBER_BITS} bits")
    return value


def _shown(value: Any) -> str:
    if type(value) is int and value.bit_length() > 64:
        return f"<a {value.bit_length()}-bit number>"
    return repr(value)


def _guard(op: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        try:
            return _bounded(op(a, b))
        except (TypeError, ValueError, OverflowError) as exc:
            raise _fail(f"cannot compute {_shown(a)} {symbol} {_shown(b)}: {exc}") from None

    return apply


def _multiply(a: Any, b: Any) -> Any:
    if isinstance(a, (str, list)) or isinstance(b, (str, list)):
        raise TypeError("only numbers can be multiplied")
    return a * b


def _divide(a: Any, b: Any) -> Any:
    try:
        return a / float(b)  # Cinder always divides by float(b)
    except ZeroDivisionError:
        raise _fail(f"division by zero: {a!r} / {b!r}") from None


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0:
        if abs(a) > 1 and (abs(a).bit_length() - 1) * b > MAX_NUMBER_BITS:
            raise OverflowError(f"a number wider than {MAX_NUMBER_BITS} bits")
    result = pow(a, b)
    if isinstance(result, complex):
        raise ValueError("complex result")
    return result


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": _guard(operator.add, "+"),
    "-": _guard(operator.sub, "-"),
    "*": _guard(_multiply, "*"),
    "/": _guard(_divide, "/"),
    "^": _guard(_power, "^"),
}


def _arithmetic(first: Node, rest: list[tuple[str, Node]]) -> Node:
    steps = [(_BINARY[op], node) for op, node in rest]

    def run(env: Mapping[str, Any]) -> Any:
        value = first(env)
        for apply, node in steps:
            value = apply(value, node(env))
        return value

    return run


def _sign(symbol: str, operand: Node) -> Node:
    factor = -1 if symbol == "-" else 1
    apply = _guard(_multiply, "*")

    def run(env: Mapping[str, Any]) -> Any:
        value = operand(env)
        if isinstance(value, (str, list)):
            return "" if factor < 0 else value  # Cinder: -1 * 'x' == '', 1 * 'x' == 'x'
        return apply(factor, value)

    return run


def _comparison(first: Node, rest: list[tuple[str, Node]]) -> Node:
    steps = [(_guard(_COMPARISONS[op], op), node) for op, node in rest]

    def run(env: Mapping[str, Any]) -> bool:
        left = first(env)
        for compare, node in steps:
            right = node(env)
            if not compare(left, right):
                return False
            left = right
        return True

    return run


def _function(name: str, argument: Node) -> Node:
    func = FUNCTIONS[name]

    def run(env: Mapping[str, Any]) -> Any:
        args = argument(env)
        try:
            return func(*args) if type(args) is list else func(args)
        except (TypeError, ValueError) as exc:
            raise _fail(f"{name}() failed: {exc}") from None

    return run


def _comma(left: Node, right: Node) -> Node:
    def run(env: Mapping[str, Any]) -> list[Any]:
        first, rest = left(env), right(env)
        return [first, *rest] if type(rest) is list else [first, rest]

    return run


# --- parser ---


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.names: set[str] = set()  # variables referenced, e.g. "volume.size"

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, *ops: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == "op" and token.text in ops

    def expect(self, op: str) -> None:
        if not self.at(op):
            raise self.error(f"expected {op!r}")
        self.index += 1

    def error(self, message: str) -> EvaluatorSyntaxError:
        token = self.token
        found = "end of text" if token.kind == "end" else repr(token.text)
        return EvaluatorSyntaxError(f"{message}, found {found} at column {token.pos + 1}")

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EvaluatorSyntaxError("expression is nested too deeply")

    def parse(self) -> Node:
        node = self.comma()
        if self.token.kind != "end":
            raise self.error("expected an operator or the end of the expression")
        return node

    def comma(self) -> Node:
        left = self.logical_or()
        if self.at(","):
            self.take()
            self.nest()
            right = self.comma()
            self.depth -= 1
            return _comma(left, right)
        return left

    def logical_or(self) -> Node:
        return self._both("or", self.logical_and)

    def logical_and(self) -> Node:
        return self._both("and", self.ternary)

    def _both(self, op: str, sub: Callable[[], Node]) -> Node:
        first = sub()
        if not self.at(op):
            return first
        operands = [first]
        while self.at(op):
            self.take()
            operands.append(sub())
        # Cinder evaluates both sides (no short circuit) of the first pair only.
        left, right = operands[0], operands[1]
        if op == "and":

            def both_and(env: Mapping[str, Any]) -> Any:
                a, b = left(env), right(env)
                return a and b

            return both_and

        def both_or(env: Mapping[str, Any]) -> Any:
            a, b = left(env), right(env)
            return a or b

        return both_or

    def ternary(self) -> Node:
        condition = self.comparison()
        if not self.at("?"):
            return condition
        parts = [condition]
        while self.at("?"):
            self.take()
            parts.append(self.comparison())
            self.expect(":")
            parts.append(self.comparison())
        # Only the first "c ? a : b" of a chain counts, as in Cinder.
        cond, yes, no = parts[0], parts[1], parts[2]
        return lambda env: yes(env) if cond(env) else no(env)

    def comparison(self) -> Node:
        first = self.negation()
        rest: list[tuple[str, Node]] = []
        while self.at(*_COMPARISONS):
            op = self.take().text
            rest.append((op, self.negation()))
        return _comparison(first, rest) if rest else first

    def negation(self) -> Node:
        if self.at("not"):
            self.take()
            self.nest()
            operand = self.negation()
            self.depth -= 1
            return lambda env: not operand(env)
        return self.additive()

    def additive(self) -> Node:
        first = self.multiplicative()
        rest: list[tuple[str, Node]] = []
        while self.at("+", "-"):
            op = self.take().text
            rest.append((op, self.multiplicative()))
        return _arithmetic(first, rest) if rest else first

    def multiplicative(self) -> Node:
        first = self.signed()
        rest: list[tuple[str, Node]] = []
        while self.at("*", "/"):
            op = self.take().text
            rest.append((op, self.signed()))
        return _arithmetic(first, rest) if rest else first

    def signed(self) -> Node:
        if self.at("+", "-"):
            symbol = self.take().text
            self.nest()
            operand = self.signed()
            self.depth -= 1
            return _sign(symbol, operand)
        return self.power()

    def power(self) -> Node:
        base = self.application()
        if self.at("^"):
            self.take()
            self.nest()
            exponent = self.power()
            self.depth -= 1
            return _arithmetic(base, [("^", exponent)])
        return base

    def _starts_atom(self, token: _Token) -> bool:
        return token.kind in ("num", "name", "str") or (token.kind == "op" and token.text == "(")

    def application(self) -> Node:
        token = self.token
        if token.kind == "name" and self._starts_atom(self.tokens[self.index + 1]):
            # A name directly followed by an operand is a function call, as in
            # Cinder's grammar; only abs, max and min exist.
            if token.text not in FUNCTIONS:
                raise EvaluatorSyntaxError(
                    f"unknown function {token.text!r} at column {token.pos + 1}"
                    f" (only {', '.join(sorted(FUNCTIONS))})"
                )
            self.take()
            self.nest()
            argument = self.application()
            self.depth -= 1
            return _function(token.text, argument)
        return self.atom()

    def atom(self) -> Node:
        token = self.token
        if token.kind == "num":
            self.take()
            return _constant(_coerce(token.text))
        if token.kind == "str":
            self.take()
            return _constant(_coerce(token.text))
        if token.kind == "name":
            self.take()
            if _VARIABLE.fullmatch(token.text):
                self.names.add(token.text)
                return _variable(token.text)
            return _constant(_coerce(token.text))
        if self.at("("):
            self.take()
            self.nest()
            inner = self.comma()
            self.depth -= 1
            self.expect(")")
            return inner
        raise self.error("expected a number, name, string or '('")


class Expression:
    """A parsed expression; evaluate it against ``{"stats": {...}, ...}`` mappings.

    ``names`` lists the variables it reads and ``namespaces`` their prefixes, so
    callers can skip building namespaces the expression never touches.
    """

    __slots__ = ("source", "names", "namespaces", "_root")

    def __init__(self, source: str, root: Node, names: frozenset[str] = frozenset()) -> None:
        self.source = source
        self.names = names
        self.namespaces = frozenset(name.partition(".")[0] for name in names)
        self._root = root

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        try:
            return self._root(variables)
        except RecursionError:
            raise EvaluatorError("expression is nested too deeply") from None
        except MemoryError:
            raise EvaluatorError("expression needs too much memory") from None

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def parse(text: str) -> Expression:
    """Parse once; a fleet of pools usually shares a handful of functions.

    A text that does not parse is remembered too, so a bad function costs its parse
    once, not once per pool and request.
    """
    if not isinstance(text, str):
        raise EvaluatorSyntaxError("expression must be text")
    outcome = _parse(text)
    if isinstance(outcome, EvaluatorError):
        raise outcome
    return outcome


@lru_cache(maxsize=1024)
def _parse(text: str) -> Expression | EvaluatorError:
    if len(text) > MAX_LENGTH:
        return EvaluatorSyntaxError(f"expression longer than {MAX_LENGTH} characters")
    parser = _Parser(text)
    try:
        root = parser.parse()
    except EvaluatorSyntaxError as error:
        return error
    except RecursionError:  # nesting within MAX_DEPTH, on a stack already deep
        return EvaluatorSyntaxError("expression is nested too deeply")
    except MemoryError:
        return EvaluatorSyntaxError("expression needs too much memory")
    return Expression(text, root, frozenset(parser.names))


def clear_cache() -> None:
    _parse.cache_clear()


def evaluate(text: str, **variables: Mapping[str, Any]) -> Any:
    """Cinder's ``evaluate(expression, stats=..., capabilities=..., ...)``."""
    return parse(text).evaluate(variables)


__all__ = [
    "EvaluatorError",
    "EvaluatorSyntaxError",
    "Expression",
    "FUNCTIONS",
    "clear_cache",
    "evaluate",
    "parse",
]

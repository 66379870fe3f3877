"""The goodness/filter function evaluator: Cinder's grammar, quirks included, and safe."""

import builtins
import sys
from typing import Any

import pytest

from scheduler import evaluator
from scheduler.evaluator import (
    EvaluatorError,
    EvaluatorSyntaxError,
    clear_cache,
    evaluate,
    parse,
)

VARIABLES: dict[str, dict[str, Any]] = {
    "capabilities": {
        "free": 91.8,
        "total_volumes": 7,
        "thin": True,
        "protocol": "iSCSI",
        "ratio": "20",
        "missing_value": None,
        "pools": [1, 2],
    },
    "stats": {"iops": 1000, "free_capacity_gb": 50.5},
    "volume": {"size": 10},
}


def run(text: str) -> Any:
    return evaluate(text, **VARIABLES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1+1", 2),
        ("2+3+4", 9),
        ("872 - 453 + 44 / 22 * 4 + 66", 493),
        ("1.5 + 1", 2.5),
        ("10/4+0.75    + 2", 5.25),
        ("22/11", 2.0),
        ("-2+1", -1),
        ("5+-2", 3),
        ("3 - - 3", 6),
        ("2^3", 8),
        ("-2 ^ 3", -8),
        ("-2 ^ 2", -4),
        ("4 ^ 1.5", 8),
        ("2 ^ 3 ^ 2", 512),
        ("abs(-5)", 5),
        ("min(1, 100)", 1),
        ("max(1, 100)", 100),
        ("max(1, 2, 3)", 3),
        ("max(1,2) + 1", 3),
        ("(1+2)*(3-1)/((1+(2-1)))", 3),
        ("((1.0 / 0.5) * (2)) *(-2)", -8.0),
        ("(((1 + max(1 + (10 / 20), 2, 3)) / 100) + 1)", 1.04),
    ],
)
def test_arithmetic_follows_cinder(text: str, expected: Any) -> None:
    assert run(text) == pytest.approx(expected)


def test_division_is_always_true_division() -> None:
    assert run("10 / 5") == 2.0
    assert isinstance(run("10 / 5"), float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 < 1", False),
        ("2 != 1", True),
        ("1 <> 1", False),
        ("2 == 1", False),
        ("1 == 1.0", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("(1 == 1) == !(1 == 2)", True),
        ("(1 == 1) AND (2 == 2)", True),
        ("(1 == 1) and (2 == 2)", True),
        ("(1 == 1) && (5 == 2)", False),
        ("(1 == 1) OR (5 == 2)", True),
        ("(1 == 1) or (5 == 2)", True),
        ("(5 == 1) || (5 == 2)", False),
        ("(1 == 1) AND NOT (2 == 2)", False),
        ("(1 == 1) AND not (2 == 2)", False),
        ("(1 == 1) AND !(2 == 2)", False),
        ("(1 == 1) OR NOT (2 == 2) AND (5 == 5)", True),
        ("!!1", True),
        ("not not 1", True),
        ("(1 < 2) ? 5 : 10", 5),
        ("(1 > 2) ? 5 : 10", 10),
        ("1 + 2 < 4 ? 10 : 20", 10),
    ],
)
def test_comparisons_logic_and_ternary_follow_cinder(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "why"),
    [
        ("not 0 + 1", False, "not binds looser than arithmetic"),
        ("not 1 == 0", True, "not binds tighter than comparison: (not 1) == 0"),
        ("1 and 1 ? 5 : 6", 5, "the ternary binds tighter than and"),
        ("0 and 1 ? 5 : 6", 0, "and returns an operand, not a bool"),
        ("1 and 1 and 0", 1, "a chain of and only reads its first two operands"),
        ("0 or 0 or 5", 0, "a chain of or only reads its first two operands"),
        ("0 ? 2 : 1 ? 3 : 4", 1, "a chained ternary only reads c1 ? a : c2"),
        ("1, 2", [1, 2], "a top-level comma builds a list"),
    ],
)
def test_cinder_quirks_are_kept(text: str, expected: Any, why: str) -> None:
    assert run(text) == expected, why


def test_variables_are_looked_up_by_namespace() -> None:
    assert run("stats.iops + volume.size") == 1010
    assert run("(volume.size < 5) ? 100 : 50") == 50
    assert run("(capabilities.total_volumes < 8) ? 100 : 50") == 100


def test_variable_values_pass_through_int_like_cinder() -> None:
    assert run("capabilities.free") == 91  # 91.8 truncated, as Cinder's int() does
    assert run("stats.free_capacity_gb") == 50
    assert run("capabilities.thin") == 1
    assert run("capabilities.ratio + 1") == 21  # numeric text becomes a number


def test_words_are_text_and_quotes_are_stripped() -> None:
    assert run("capabilities.protocol == iSCSI") is True
    assert run("capabilities.protocol == 'iSCSI'") is True
    assert run('"a" + "b"') == "ab"
    assert run("'10'") == "10"
    assert run("a.b.c") == "a.b.c"
    assert run("inf") == float("inf")


@pytest.mark.parametrize(
    "text",
    [
        "capabilities.nothing",
        "nothing.here",
        "capabilities.missing_value",
        "capabilities.pools",
        "7 / 0",
        "1 + 'a'",
        "'a' < 1",
        "min(5)",
        "'ab' * 2",
        "(0-8) ^ 0.5",
        "9 ^ 9 ^ 9",
    ],
)
def test_evaluation_errors_raise_evaluator_error(text: str) -> None:
    with pytest.raises(EvaluatorError):
        run(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1/*1",
        "5 % 2",
        "1 & 1",
        "1 | 0",
        "1e3",
        ".5",
        "(1",
        "1)",
        "1 2",
        "1 ?",
        "1 ? 2",
        "and 1",
        "2 ^ -1",
        "foo(1)",
        "capabilities.raid5",
        "__import__('os')",
        "__import__('os').system('true')",
        "().__class__",
        "[1, 2]",
        "lambda: 1",
        "open('x')",
        "x = 1",
        "1; 2",
        "{1: 2}",
        "getattr(1, 'real')",
    ],
)
def test_text_outside_the_grammar_is_a_syntax_error(text: str) -> None:
    with pytest.raises(EvaluatorSyntaxError):
        parse(text)


def test_dunder_names_are_dictionary_keys_not_attributes() -> None:
    with pytest.raises(EvaluatorError):
        run("capabilities.__class__")
    assert run("__class__") == "__class__"  # a bare word is only text


def test_evaluation_never_reaches_python_eval_exec_compile_or_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the evaluator must not call this")

    texts = [
        "(capabilities.total_volumes < 8) ? 100 : 50",
        "max(stats.iops, 2) ^ 2 / 3",
        "'a' == a",
    ]
    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    for text in texts:
        clear_cache()
        run(text)


def test_huge_powers_are_refused() -> None:
    with pytest.raises(EvaluatorError, match="wider than 1024 bits"):
        run("9 ^ 9 ^ 9 ^ 9")


def test_a_product_of_huge_numbers_is_refused_at_its_first_step() -> None:
    """120 factors of 3^600 fit the length limit; without a bound each product grows and
    the whole costs seconds per pool. The first product past 1024 bits is refused."""
    text = " * ".join(["3 ^ 600"] * 120)
    assert len(text) <= 4096

    with pytest.raises(EvaluatorError, match=r"cannot compute <a \d+-bit number> \*"):
        run(text)


def test_sums_are_bounded_too() -> None:
    assert run("2 ^ 1000 + 2 ^ 1000") == 2**1001
    with pytest.raises(EvaluatorError, match="wider than 1024 bits"):
        run("2 ^ 1023 + 2 ^ 1023")


def test_nesting_within_the_limit_parses_even_on_a_deep_stack() -> None:
    """The worker's own stack is deep; parsing must then fail cleanly or succeed, never
    raise RecursionError into the scheduler."""
    text = "(" * 32 + "1" + ")" * 32

    def at_depth(frames: int):
        if frames == 0:
            clear_cache()
            try:
                return run(text)
            except EvaluatorError as error:
                return error
        return at_depth(frames - 1)

    limit = sys.getrecursionlimit()
    outcomes = [at_depth(limit - room) for room in (600, 200, 60)]

    assert outcomes[0] == 1
    assert all(o == 1 or isinstance(o, EvaluatorError) for o in outcomes)


def test_a_text_that_fails_to_parse_is_parsed_once(monkeypatch) -> None:
    clear_cache()
    calls = []
    real = evaluator._Parser.parse
    monkeypatch.setattr(evaluator._Parser, "parse", lambda self: calls.append(1) or real(self))

    for _ in range(3):
        with pytest.raises(EvaluatorSyntaxError):
            parse("1 +* 2")

    assert len(calls) == 1


def test_deep_nesting_and_long_text_are_refused() -> None:
    with pytest.raises(EvaluatorSyntaxError):
        parse("(" * 200 + "1" + ")" * 200)
    with pytest.raises(EvaluatorSyntaxError):
        parse("-" * 200 + "1")
    with pytest.raises(EvaluatorSyntaxError):
        parse("1" + " + 1" * 2000)


def test_reasonable_nesting_still_parses() -> None:
    assert run("(" * 30 + "1" + ")" * 30) == 1


def test_parsed_expressions_are_reused() -> None:
    assert parse("1 + volume.size") is parse("1 + volume.size")

"""Cinder's extra-spec operators, one row per documented rule."""

from typing import Any

import pytest

from scheduler.extra_specs_ops import OPERATORS, bool_from_string, compile_requirement, match

CASES: list[tuple[Any, str | None, bool, str]] = [
    # '=' is "at least", numerically
    (10, "= 5", True, "= means >= for numbers"),
    (5, "= 5", True, "= passes on equality"),
    (4, "= 5", False, "= fails below"),
    ("10", "= 5", True, "= converts text capabilities"),
    ("fast", "= 5", False, "= with non-numeric value is no match"),
    (10, "= x", False, "= with non-numeric argument is no match"),
    # numeric comparisons
    (5, "== 5.0", True, "== compares as floats"),
    (5, "== 6", False, "== fails on difference"),
    (5, "!= 6", True, "!= passes on difference"),
    (5, "!= 5", False, "!= fails on equality"),
    (6, ">= 5", True, ">= passes above"),
    (4, ">= 5", False, ">= fails below"),
    (4, "<= 5", True, "<= passes below"),
    (6, "<= 5", False, "<= fails above"),
    # string comparisons
    ("abc", "s== abc", True, "s== equal text"),
    ("abd", "s== abc", False, "s== different text"),
    ("abd", "s!= abc", True, "s!= different text"),
    ("abc", "s!= abc", False, "s!= equal text"),
    ("abc", "s< abd", True, "s< orders text"),
    ("abd", "s< abd", False, "s< is strict"),
    ("abd", "s<= abd", True, "s<= allows equal"),
    ("abe", "s> abd", True, "s> orders text"),
    ("abd", "s> abd", False, "s> is strict"),
    ("abd", "s>= abd", True, "s>= allows equal"),
    ("10", "s< 9", True, "s< compares text, not numbers"),
    (5, "s< 6", False, "s< against a number is no match (Cinder would raise)"),
    # containment and booleans
    ("gold silver", "<in> gold", True, "<in> is substring containment"),
    ("bronze", "<in> gold", False, "<in> fails when absent"),
    (["a", "b"], "<in> a", True, "<in> on a list is membership"),
    (5, "<in> 5", False, "<in> on a number is no match (Cinder would raise)"),
    (True, "<is> True", True, "<is> compares booleans"),
    ("yes", "<is> true", True, "<is> reads yes/true/1/on as true"),
    (False, "<is> True", False, "<is> fails on the other boolean"),
    (0, "<is> False", True, "<is> reads 0 as false"),
    (None, "<is> False", False, "<is> never matches a missing value"),
    # <or>
    ("a", "<or> a <or> b", True, "<or> matches the first alternative"),
    ("b", "<or> a <or> b", True, "<or> matches a later alternative"),
    ("c", "<or> a <or> b", False, "<or> fails when no alternative matches"),
    ("b", "<or> a b", False, "<or> takes every other word as an alternative"),
    ("x", "<or>", False, "a bare <or> matches nothing (Cinder would raise)"),
    # no operator: equality of the whole string
    ("lvm-1", "lvm-1", True, "an unknown first word means plain equality"),
    ("lvm 1", "lvm 1", True, "plain equality uses the whole string"),
    (True, "True", False, "the boolean True does not equal the string 'True'"),
    (1, "1", False, "the number 1 does not equal the string '1'"),
    ("", "", True, "empty requirement equals empty value"),
    # None and argument handling
    (None, None, True, "a None requirement matches only None"),
    ("x", None, False, "a None requirement fails a value"),
    (None, "= 1", False, "an operator never matches a missing value"),
    ("1", "= 1 2", True, "only the first argument word is used"),
    (5, "==", False, "an operator without an argument matches nothing"),
]


@pytest.mark.parametrize(
    ("value", "req", "expected"),
    [case[:3] for case in CASES],
    ids=[case[3] for case in CASES],
)
def test_each_operator_rule_matches_cinder(value: Any, req: str | None, expected: bool) -> None:
    assert match(value, req) is expected


def test_compiled_requirements_behave_like_match() -> None:
    for value, req, expected, _ in CASES:
        assert compile_requirement(req)(value) is expected


def test_every_documented_operator_is_known() -> None:
    documented = {"=", "==", "!=", ">=", "<=", "s==", "s!=", "s<", "s<=", "s>", "s>="}
    assert documented | {"<in>", "<is>", "<or>"} == OPERATORS


def test_there_are_no_numeric_strict_less_or_greater_operators() -> None:
    # "< 5" is not an operator, so it is compared as the literal string "< 5".
    assert match(3, "< 5") is False
    assert match("< 5", "< 5") is True


@pytest.mark.parametrize(
    ("subject", "expected"),
    [(True, True), (False, False), ("1", True), ("t", True), ("On", True), (" yes ", True)]
    + [("0", False), ("no", False), ("maybe", False), (None, False), (1, True), (2, False)],
)
def test_bool_from_string_reads_like_oslo(subject: Any, expected: bool) -> None:
    assert bool_from_string(subject) is expected

"""Plasticity rules: parser, errors, programs, evaluation, and a cross-check against Lava's own parser."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuragi.errors import RuleError, YuragiError
from yuragi.ir.plasticity import (
    Factor,
    PlasticityProgram,
    ProductTerm,
    Rule,
    Trace,
    parse_rule,
)

lava_learning_rule = pytest.importorskip("lava.magma.core.learning.learning_rule")


def ours(text: str, target: str = "dw") -> list[tuple]:
    """Our parse in a Lava-comparable form: (dependency, s_mantissa, exponent, factors)."""
    return [
        (t.dependency, t.signed_mantissa, t.exponent, tuple((f.symbol, f.offset, f.sgn) for f in t.factors))
        for t in parse_rule(text, target).terms
    ]


def lava(text: str, target: str = "dw") -> list[tuple]:
    """Lava's parse (Loihi2FLearningRule) in the same form; raises whatever Lava raises."""
    rule = lava_learning_rule.Loihi2FLearningRule(**{target: text}, rng_seed=1)
    out = []
    for p in rule.active_product_series[target].products:
        dep = f"u{p.decimate_exponent}" if p.dependency == "u" else p.dependency
        factors = tuple((f.state_var, f.const if f.has_const() else 0, f.is_sgn) for f in p.factors)
        out.append((dep, p.s_mantissa, p.s_exp - 7, factors))
    return out


def lava_accepts(text: str) -> bool:
    try:
        lava(text)
    except Exception:
        return False
    return True


# --- Valid rules

F = Factor


@pytest.mark.parametrize(
    "text, terms",
    [
        (  # Lava's STDP example (STDPLoihi with lr*A = 2^-2)
            "2^-2*x0*y1 + 2^-2*y0*x1",
            [ProductTerm(1, 1, -2, (F("y1"),), "x0"), ProductTerm(1, 1, -2, (F("x1"),), "y0")],
        ),
        ("2^-4*x1*y0 - 2^-4*y1*x0", [ProductTerm(1, 1, -4, (F("x1"),), "y0"), ProductTerm(-1, 1, -4, (F("y1"),), "x0")]),
        ("u0*t*y2", [ProductTerm(1, 1, 0, (F("t"), F("y2")), "u0")]),  # R-STDP dw
        ("2^-3*x0*(x1 + 2)", [ProductTerm(1, 1, -3, (F("x1", 2),), "x0")]),
        ("y0*(2 - x1)", [ProductTerm(-1, 1, 0, (F("x1", -2),), "y0")]),  # -(x1 - 2)
        ("y0*(-x1 - 3)", [ProductTerm(-1, 1, 0, (F("x1", 3),), "y0")]),  # -(x1 + 3)
        ("x0*(y1 + 3*2^2)", [ProductTerm(1, 1, 0, (F("y1", 12),), "x0")]),  # k*2^e constant
        ("-sgn(w)*y0", [ProductTerm(-1, 1, 0, (F("w", 0, True),), "y0")]),
        ("x0*sgn(d - 1)*sgn(t)", [ProductTerm(1, 1, 0, (F("d", -1, True), F("t", 0, True)), "x0")]),
        ("3*2^-5*x0*y2", [ProductTerm(1, 3, -5, (F("y2"),), "x0")]),
        ("-5*2^-7*y0*x2", [ProductTerm(-1, 5, -7, (F("x2"),), "y0")]),
        ("2 ^ -4 * x0 * y1", [ProductTerm(1, 1, -4, (F("y1"),), "x0")]),  # spaces inside 2^e
        ("(-1) * 2 ^ -4 * x0 * y1", [ProductTerm(-1, 1, -4, (F("y1"),), "x0")]),  # Lava's float_to_literal form
        ("16*2^-8*x0", [ProductTerm(1, 4, -6, (), "x0")]),  # Lava halves even mantissas > 7
        ("-16*2^7*x0", [ProductTerm(-1, 8, 8, (), "x0")]),  # -8 is representable, +8 is not
        ("x0*y0", [ProductTerm(1, 1, 0, (F("y0"),), "x0")]),  # the first dependency wins
        ("u3*x0*w", [ProductTerm(1, 1, 0, (F("x0"), F("w")), "u3")]),
        ("u1*u1*x1", [ProductTerm(1, 1, 0, (F("x1"),), "u1")]),  # u*u == u (Lava drops it)
        ("x1*x0", [ProductTerm(1, 1, 0, (F("x1"),), "x0")]),
        ("+x0 - 0*y0", [ProductTerm(1, 1, 0, (), "x0"), ProductTerm(1, 0, 0, (), "y0")]),
    ],
)
def test_valid_rules(text: str, terms: list[ProductTerm]) -> None:
    rule = parse_rule(text)
    assert rule == Rule("dw", text, tuple(terms))
    assert parse_rule(str(rule)).terms == rule.terms
    assert ours(text) == lava(text)


def test_symbols_and_decimate_exponent() -> None:
    rule = parse_rule("u2*t*y2 - 2^-1*u2*(x1 + 1)*sgn(w)", "dt")
    assert rule.symbols == frozenset({"u2", "t", "y2", "x1", "w"})
    assert rule.decimate_exponent == 2
    assert parse_rule("x0*y1").decimate_exponent is None


# --- Invalid rules: one line naming the rule, the token and its column

@pytest.mark.parametrize(
    "text, token, column",
    [
        ("2^-4*x1*z1", "'z1'", 9),  # unknown symbol
        ("x0*y4", "'y4'", 4),
        ("x0y1", "'x0y1'", 1),  # Lava reads x0*y1; we want the '*'
        ("2^-4*x1*y1", "'2^-4*x1*y1'", 1),  # no dependency
        ("x0*y1 + x1*y1", "'x1*y1'", 9),
        ("x0*y1 + u0*x1 + u1*x2", "'u1'", 17),  # two decimation exponents
        ("x0*u0", "'u0'", 4),  # Lava: u<k> after x0 is an error
        ("x0*y1 +", "end of rule", 8),
        ("x0*y1)", "')'", 6),
        ("x0 y1", "'y1'", 4),
        ("x0*(y1 + 2", "end of rule", 11),
        ("x0*(x1*2)", "'*'", 7),  # Lava reads (x1 + 2)
        ("x0*(x1 + 2^3*3)", "'*'", 13),  # Lava ignores '*3'
        ("x0*(-x1)", "'-x1'", 6),  # Lava ignores the sign
        ("x0*sgn(-w)", "'-w'", 9),
        ("x0*sgn(x1)", "'x1'", 8),
        ("x0*sgn(2)", "sgn(...)", 8),
        ("x0*(x1 + y1)", "brackets", 10),
        ("x0*((x1))", "nested brackets", 5),
        ("x0*(y0)", "'(y0)'", 5),  # Lava drops it silently
        ("x0*(u0 + 1)", "'u0'", 5),
        ("x0*(x1 + 2^-1)", "not an integer", 10),
        ("9*x0", "'9*x0'", 1),  # mantissa beyond 4 signed bits
        ("x0 + 2^-8*y0", "'2^-8*y0'", 6),  # exponent below -7
        ("2^9*x0", "'2^9*x0'", 1),
        ("x0*3^2", "'^'", 5),
        ("x0*07", "'07'", 4),  # Python literal rules, as in Lava
        ("x0*y1 # STDP", "'#'", 7),
        ("", "empty rule", 1),
        ("x0*sgn w", "'w'", 8),
    ],
)
def test_invalid_rules(text: str, token: str, column: int) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(text, "dd")
    message = str(info.value)
    assert message.startswith("rule dd: ")
    assert token in message and f"at column {column} " in message
    assert json.dumps(text) in message
    assert "\n" not in message


def test_unknown_symbol_message_in_full() -> None:
    with pytest.raises(RuleError, match=r"^rule dw: unknown symbol 'z1' at column 9 in \"2\^-4\*x1\*z1\" "
                       r"\(allowed: x0, y0, u0\.\.u9, x1, x2, y1, y2, y3, w, d, t\)$"):
        parse_rule("2^-4*x1*z1")


def test_message_stays_one_line_for_multiline_text() -> None:
    with pytest.raises(RuleError) as info:
        parse_rule("x0*y1\n+ y0*x1")
    assert "\n" not in str(info.value) and "'\\n'" in str(info.value)


def test_bad_target_and_type() -> None:
    with pytest.raises(RuleError, match="unknown target"):
        parse_rule("x0", "dx")
    with pytest.raises(RuleError, match="must be a string"):
        parse_rule(3)  # type: ignore[arg-type]


# --- Cross-check against Lava's own parser

LAVA_AGREES = [
    "2^-2*x0*y1 + 2^-2*y0*x1",
    "-2*x0*y1 + 4*y0*x1 + u0*w",
    "2^-4*x0*(x1 + 2) - 3*2^-6*y0*(5 - y3)",
    "u1*sgn(w - 3)*d + u1*(t + 1)*2^2",
    "7*2^8*y0*x2*y2*y3",
    "(2^-3)*x0*(-4)",
    "0*y0",
    "64*2^-7*x0",
]


@pytest.mark.parametrize("text", LAVA_AGREES)
@pytest.mark.parametrize("target", ["dw", "dd", "dt"])
def test_same_products_as_lava(text: str, target: str) -> None:
    assert ours(text, target) == lava(text, target)


LAVA_REJECTS = [
    "x1*y1",  # no dependency
    "x0*z1",  # unknown symbol
    "x0*y1 + u0*x1 + u1*x2",
    "x0*u0",
    "9*x0",
    "2^-8*x0",
    "2^9*x0",
    "x0*sgn(x1)",
    "x0*sgn(-w + 1)",
    "x0*(x1 + y1)",
    "x0*(u0 + 1)",
    "x0*(y1 + 2",
    "x0*y1)",
    "x0*y1 +",
    "x0*07",
    "x0*3^2",
    "",
]


@pytest.mark.parametrize("text", LAVA_REJECTS)
def test_rejected_by_both(text: str) -> None:
    assert not lava_accepts(text)
    with pytest.raises(RuleError):
        parse_rule(text)


def test_lava_rejects_mixed_u_across_rules_and_so_do_we() -> None:
    with pytest.raises(ValueError):
        lava_learning_rule.Loihi2FLearningRule(dw="u0*x1", dt="u1*y1", rng_seed=1)
    with pytest.raises(RuleError, match=r"rule dt uses 'u1' but rule dw uses 'u0'"):
        PlasticityProgram(dw="u0*x1", dt="u1*y1")


# --- Property tests

VARS = ["x1", "x2", "y1", "y2", "y3", "w", "d", "t"]


@st.composite
def valid_rules(draw: st.DrawFn) -> str:
    k = draw(st.integers(0, 9))
    terms = []
    for i in range(draw(st.integers(1, 4))):
        sign = draw(st.sampled_from(["+", "-"] if i else ["", "-", "+"]))
        m, e = draw(st.integers(0, 7)), draw(st.integers(-7, 8))
        scale = draw(st.sampled_from(["", f"{m}", f"2^{e}", f"{m}*2^{e}", f"({m}*2^{e})", f"(-{m})", f"2 ^ {e}"]))
        c = draw(st.integers(0, 127))
        v = draw(st.sampled_from(VARS))
        sv = draw(st.sampled_from(["w", "d", "t"]))
        pieces = draw(st.lists(st.sampled_from([
            v, f"({v} + {c})", f"({v} - {c})", f"({c} - {v})", f"(-{c} + {v})", f"(-{v} + 2^{abs(e)})",
            f"sgn({sv})", f"sgn({sv} - {c})", f"sgn({c} + {sv})", "(x0 + 1)", "(y0 - 1)",
        ]), max_size=3))
        dep = draw(st.sampled_from(["x0", "y0", f"u{k}"]))
        pieces.insert(draw(st.integers(0, len(pieces))), dep)
        if scale:
            pieces.insert(0, scale)
        terms.append(sign + draw(st.sampled_from(["*", " * "])).join(pieces))
    return " ".join(terms)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_rules())
def test_valid_rules_parse_round_trip_and_match_lava(text: str) -> None:
    rule = parse_rule(text)
    again = parse_rule(str(rule))
    assert again.terms == rule.terms
    assert str(again) == str(rule)
    assert ours(text) == lava(text)


SOUP = [
    "x0", "y0", "u0", "u1", "x1", "y1", "y3", "w", "d", "t", "z", "sgn(", "(", ")", "+", "-", "*",
    "2", "3", "0", "8", "16", "05", "^", "2^-3", "2^3", " ", "(x1+2)", "(2-y1)", "sgn(w-1)", "(-x1)",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(SOUP), min_size=1, max_size=10).map("".join))
def test_differential_against_lava(text: str) -> None:
    """Whatever we accept Lava accepts with the same products (so whatever Lava rejects we reject)."""
    try:
        mine = ours(text)
    except RuleError:
        return
    assert mine == lava(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_raises_only_rule_error(text: str) -> None:
    try:
        parse_rule(text)
    except RuleError as error:
        assert "\n" not in str(error)


# --- Evaluation


def test_evaluate_stdp_by_hand() -> None:
    rule = parse_rule("2^-2*x0*y1 - 3*2^-3*y0*x1")
    assert rule.evaluate({"x0": 1, "y0": 0, "x1": 5, "y1": 8}) == 2.0
    assert rule.evaluate({"x0": 1, "y0": 1, "x1": 4, "y1": 8}) == 2.0 - 1.5
    x0 = np.array([1.0, 0.0, 1.0])
    out = rule.evaluate({"x0": x0, "y0": 1 - x0, "x1": np.array([0.0, 8.0, 0.0]), "y1": np.array([4.0, 4.0, 12.0])})
    np.testing.assert_allclose(out, [1.0, -3.0, 3.0])


def test_evaluate_offsets_sgn_and_u() -> None:
    rule = parse_rule("u0*(x1 + 2)*sgn(w - 3) - y0*(5 - y2)")  # u*(x1+2)*sgn(w-3) - y0*(5-y2)
    env = {"u0": 1, "x1": 1.5, "w": np.array([1.0, 3.0, 7.0]), "y0": 1, "y2": 2}
    np.testing.assert_allclose(rule.evaluate(env), [-3.5 - 3.0, 0.0 - 3.0, 3.5 - 3.0])
    assert rule.evaluate({**env, "w": 10.0, "u0": 0}) == -3.0
    assert isinstance(rule.evaluate({**env, "w": 10.0}), float)


def test_evaluate_missing_symbol() -> None:
    with pytest.raises(RuleError, match="needs a value for 'y1'"):
        parse_rule("x0*y1").evaluate({"x0": 1})


# --- Traces and programs


def test_trace_validation() -> None:
    assert Trace(16, 10) == Trace(16.0, 10.0)
    for impulse, tau in [(-1, 0), (300, 0), (math.nan, 0), (1, -1), (1, math.inf), (True, 0), ("1", 0)]:
        with pytest.raises(RuleError, match="^trace: "):
            Trace(impulse, tau)


def test_program_parses_once_and_compares_by_fields() -> None:
    p = PlasticityProgram(dw="2^-2*x0*y1 + 2^-2*y0*x1", x1=Trace(16, 10), y1=Trace(16, 10), t_epoch=2)
    q = PlasticityProgram(dw="2^-2*x0*y1 + 2^-2*y0*x1", x1=Trace(16.0, 10.0), y1=Trace(16, 10), t_epoch=2)
    assert p == q and hash(p) == hash(q)
    assert p != PlasticityProgram(dw="2^-2*x0*y1 + 2^-2*y0*x1", x1=Trace(16, 10), y1=Trace(16, 10))
    assert set(p.rules) == {"dw"} and p.rules["dw"] == parse_rule(p.dw)
    assert p.rules["dw"] is p.rules["dw"]  # cached, not reparsed
    p.rules.clear()
    assert set(p.rules) == {"dw"}


def test_program_rstdp() -> None:
    p = PlasticityProgram(dw="u0*t*y2", dt="2^-2*x0*y1 + 2^-2*y0*x1 - u0*t*2^-3", y2=Trace(8, 20))
    assert p.rules["dt"].terms[2] == ProductTerm(-1, 1, -3, (F("t"),), "u0")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "at least one of the rules"),
        ({"dw": "x0", "t_epoch": 0}, "'t_epoch'.*got 0"),
        ({"dw": "x0", "t_epoch": 64}, "'t_epoch'.*got 64"),
        ({"dw": "x0", "t_epoch": 2.0}, "'t_epoch'"),
        ({"dw": "x0", "t_epoch": True}, "'t_epoch'"),
        ({"dw": 5}, "field 'dw' must be a rule string"),
        ({"dw": "x0", "y3": (1, 2)}, "field 'y3' must be a Trace"),
        ({"dd": "x0*q"}, "^rule dd: unknown symbol 'q'"),
    ],
)
def test_program_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(RuleError, match=match):
        PlasticityProgram(**kwargs)


def test_to_dict_from_dict_round_trip() -> None:
    p = PlasticityProgram(dw="2^-4*x1*y0 - 2^-4*y1*x0", dd="u2*d*(y3 - 4)", x1=Trace(np.float32(16), 10),
                          y3=Trace(127, 65535), t_epoch=np.int64(4))
    d = p.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["t_epoch"] == 4 and type(d["t_epoch"]) is int and type(d["x1"]["impulse"]) is float
    assert "dt" not in d
    assert PlasticityProgram.from_dict(json.loads(json.dumps(d))) == p
    assert PlasticityProgram.from_dict({"dw": "x0*y1"}) == PlasticityProgram(dw="x0*y1")


@pytest.mark.parametrize(
    "d, match",
    [
        ([], "expected an object, got list"),
        ({"dw": "x0", "lr": 1}, "unknown field 'lr'"),
        ({"dw": 1}, "field 'dw'"),
        ({"dw": ["x0"]}, "field 'dw'"),
        ({"dw": None}, "at least one of the rules"),
        ({"dw": "x0", "x1": 16}, "^trace 'x1': expected an object"),
        ({"dw": "x0", "x2": {"impulse": 300}}, r"^trace 'x2': impulse must be a number in \[0, 127\], got 300"),
        ({"dw": "x0", "y1": {"impulse": "16"}}, "^trace 'y1': impulse"),
        ({"dw": "x0", "y2": {"tau": -1}}, "^trace 'y2': tau"),
        ({"dw": "x0", "y2": {"tau": 10**400}}, "^trace 'y2': tau"),
        ({"dw": "x0", "y3": {"impulse": 1, "decay": 2}}, "^trace 'y3': unknown field 'decay'"),
        ({"dw": "x0", "t_epoch": "1"}, "'t_epoch'"),
        ({"dw": "x0", "t_epoch": None}, "'t_epoch'"),
        ({"dw": "x0", "t_epoch": 10**5000}, "'t_epoch'"),
    ],
)
def test_from_dict_rejects_bad_values(d: object, match: str) -> None:
    with pytest.raises(RuleError, match=match):
        PlasticityProgram.from_dict(d)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["dw", "dd", "dt", "x1", "x2", "y1", "y2", "y3", "t_epoch", "impulse", "tau"])
program_like = st.dictionaries(
    field_names,
    json_values | st.sampled_from(["x0*y1", "u0*t", "2^-2*y0*x1"])
    | st.dictionaries(st.sampled_from(["impulse", "tau"]), json_values, max_size=2),
    max_size=6,
)


@settings(max_examples=500, deadline=None)
@given(json_values | program_like)
def test_from_dict_raises_only_yuragi_errors(d: object) -> None:
    try:
        p = PlasticityProgram.from_dict(d)
    except YuragiError as error:
        assert "\n" not in str(error)
    else:
        assert PlasticityProgram.from_dict(json.loads(json.dumps(p.to_dict()))) == p

"""Plasticity programs: Loihi learning-engine rules in Lava's sum-of-products syntax.

A :class:`PlasticityProgram` holds up to three rule strings (``dw`` for the
weight, ``dd`` for the synaptic tag ``d``, ``dt`` for the tag ``t``), the five
trace configurations (``x1, x2`` presynaptic, ``y1, y2, y3`` postsynaptic) and
the learning epoch length. The strings are parsed once, at construction, into
:class:`Rule` values (a sum of :class:`ProductTerm`, each a scale times a
dependency times :class:`Factor` values) that the backends lower.

The grammar is the one of Lava v0.10.0 (``lava/magma/core/learning/
symbolic_equation.py`` and ``product_series.py``); every string Lava rejects is
rejected here, and every string accepted here is parsed by Lava into the same
products. Where Lava silently mis-reads a string (e.g. ``(x1*2)`` as
``(x1 + 2)``) or relies on implicit multiplication (``x0y1``), this parser
rejects it. The grammar is described in ``docs/plasticity-language.md``.

Example
-------
>>> rule = parse_rule("2^-2*x0*y1 - 2^-2*y0*x1")
>>> rule.evaluate({"x0": 1, "y0": 0, "x1": 0, "y1": 8})
2.0
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

import numpy as np

from ..errors import RuleError

__all__ = [
    "Factor",
    "PlasticityProgram",
    "ProductTerm",
    "Rule",
    "Trace",
    "parse_rule",
]

# --- Symbols and limits (Lava v0.10.0: magma/core/learning/string_symbols.py, constants.py)

TARGETS: tuple[str, ...] = ("dw", "dd", "dt")
"""Rule targets: weight ``w``, tag ``d`` (Lava ``tag_2``), tag ``t`` (Lava ``tag_1``)."""
SPIKE_DEPENDENCIES: tuple[str, ...] = ("x0", "y0")
TRACES: tuple[str, ...] = ("x1", "x2", "y1", "y2", "y3")
SYNAPTIC_VARIABLES: tuple[str, ...] = ("w", "d", "t")
VARIABLES: tuple[str, ...] = TRACES + SYNAPTIC_VARIABLES
ALLOWED_SYMBOLS = "x0, y0, u0..u9, x1, x2, y1, y2, y3, w, d, t"

S_MANT_MIN, S_MANT_MAX = -8, 7  # W_S_MANT = 4: signed 4-bit scale mantissa
S_EXP_MIN, S_EXP_MAX = -7, 8  # stored by Lava as s_exp + 7 in [0, 15]
IMPULSE_MAX = 127  # W_TRACE = 7: traces saturate at 2**7 - 1
T_EPOCH_MAX = 63  # W_EPOCH_TIME = 6
MAX_DIGITS = 100  # sanity bound on a number's digits (not a Lava limit)
CONST_LIMIT = 2**63  # sanity bound on a bracket constant (not a Lava limit)

_U_RE = re.compile(r"u[0-9]")
_TOKEN_RE = re.compile(r"(?P<space> +)|(?P<num>[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*^()])")


def _show(value: Any) -> str:
    """One-line, bounded ``repr`` of a user value for error messages."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int too large to print
        text = f"<{type(value).__name__}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= 60 else text[:57] + "..."


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except (OverflowError, TypeError, ValueError):
        return False


# --- Traces


def _trace_problem(impulse: Any, tau: Any) -> str | None:
    """Return what is wrong with a trace configuration, or None."""
    if not _is_real(impulse) or not _finite(impulse) or not 0 <= impulse <= IMPULSE_MAX:
        return f"impulse must be a number in [0, {IMPULSE_MAX}], got {_show(impulse)}"
    if not _is_real(tau) or not _finite(tau) or not tau >= 0:
        return f"tau must be a finite number >= 0 (0 = no decay), got {_show(tau)}"
    return None


@dataclass(frozen=True)
class Trace:
    """Configuration of one pre- or postsynaptic trace.

    Parameters
    ----------
    impulse : float
        Added to the trace on each spike of its neuron, in [0, 127]
        (Loihi traces are 7-bit, ``W_TRACE``; Lava keeps 8 fractional bits of
        the impulse and saturates the trace at 127). Stored as given.
    tau : float
        Decay time constant in time steps, >= 0; 0 means no decay (Lava skips
        the decay of traces with tau 0).
    """

    impulse: float = 0.0
    tau: float = 0.0

    def __post_init__(self) -> None:
        problem = _trace_problem(self.impulse, self.tau)
        if problem is not None:
            raise RuleError(f"trace: {problem}")


# --- AST


@dataclass(frozen=True)
class Factor:
    """One factor of a product term: ``symbol``, ``(symbol + offset)`` or ``sgn(symbol + offset)``.

    Parameters
    ----------
    symbol : str
        A trace ``x1, x2, y1, y2, y3``, a synaptic variable ``w, d, t``, or a
        spike ``x0, y0`` used as a factor (Lava takes only the first
        dependency of a term as its dependency; later ones are factors).
    offset : int
        Integer constant added to the symbol's value.
    sgn : bool
        Whether the factor is the sign (-1, 0, 1) of ``symbol + offset``;
        only for ``w, d, t``.
    """

    symbol: str
    offset: int = 0
    sgn: bool = False

    def __str__(self) -> str:
        inner = self.symbol
        if self.offset:
            inner += f" {'+' if self.offset > 0 else '-'} {abs(self.offset)}"
        if self.sgn:
            return f"sgn({inner})"
        return f"({inner})" if self.offset else inner


@dataclass(frozen=True)
class ProductTerm:
    """One product of a rule: ``sign * mantissa * 2**exponent * dependency * factors``.

    Parameters
    ----------
    sign : int
        +1 or -1.
    mantissa : int
        Magnitude of the scale mantissa; ``sign * mantissa`` is Lava's
        ``s_mantissa`` in [-8, 7] (4 signed bits, ``W_S_MANT``).
    exponent : int
        Scale exponent in [-7, 8] (Lava stores ``s_exp = exponent + 7``).
    factors : tuple of Factor
        The factors other than the dependency, in the order written.
    dependency : str
        ``'x0'``, ``'y0'`` or ``'u<k>'`` (k in 0..9): the term is evaluated
        only when the presynaptic neuron spiked (x0), the postsynaptic one
        spiked (y0), or, for ``u<k>``, once every ``2**k`` epochs.
    """

    sign: int
    mantissa: int
    exponent: int
    factors: tuple[Factor, ...]
    dependency: str

    @property
    def signed_mantissa(self) -> int:
        """Lava's ``s_mantissa``: ``sign * mantissa``."""
        return self.sign * self.mantissa

    @property
    def scale(self) -> float:
        """The scale as a float: ``sign * mantissa * 2**exponent``."""
        return float(self.sign * self.mantissa) * 2.0**self.exponent

    def __str__(self) -> str:
        if self.exponent == 0:
            scale = [] if self.mantissa == 1 else [str(self.mantissa)]
        elif self.mantissa == 1:
            scale = [f"2^{self.exponent}"]
        else:
            scale = [f"{self.mantissa}*2^{self.exponent}"]
        body = "*".join(scale + [self.dependency] + [str(f) for f in self.factors])
        return ("-" if self.sign < 0 else "") + body


@dataclass(frozen=True)
class Rule:
    """A parsed rule: the sum of its product terms.

    Parameters
    ----------
    target : str
        ``'dw'``, ``'dd'`` or ``'dt'``.
    text : str
        The rule as written.
    terms : tuple of ProductTerm
        The products, in the order written.
    """

    target: str
    text: str
    terms: tuple[ProductTerm, ...]

    @property
    def symbols(self) -> frozenset[str]:
        """Every symbol the rule reads (dependencies and factors)."""
        return frozenset(t.dependency for t in self.terms) | frozenset(
            f.symbol for t in self.terms for f in t.factors
        )

    @property
    def decimate_exponent(self) -> int | None:
        """The k of the rule's ``u<k>`` dependency, or None if it has none."""
        for term in self.terms:
            if term.dependency.startswith("u"):
                return int(term.dependency[1:])
        return None

    def evaluate(self, env: Mapping[str, float | np.ndarray]) -> float | np.ndarray:
        """Float reference value of the rule.

        Each term is ``scale * env[dependency] * prod(factor values)`` with a
        factor's value ``env[symbol] + offset``, or its sign for ``sgn``
        factors. Traces are read from ``env`` whichever dependency they appear
        with (Lava samples them at the pre or post spike; the caller decides).

        Parameters
        ----------
        env : mapping of str to float or numpy.ndarray
            A value for every symbol in :attr:`symbols` (dependencies as
            ``'x0'``, ``'y0'``, ``'u0'``..., 0 or 1).

        Returns
        -------
        float or numpy.ndarray
            The sum of the terms, broadcast over the array values.
        """
        total: Any = 0.0
        for term in self.terms:
            value: Any = term.scale * self._value(env, term.dependency)
            for factor in term.factors:
                x = self._value(env, factor.symbol) + factor.offset
                value = value * (np.sign(x) if factor.sgn else x)
            total = total + value
        return float(total) if np.ndim(total) == 0 else total

    def _value(self, env: Mapping[str, Any], symbol: str) -> Any:
        try:
            return env[symbol]
        except KeyError:
            raise RuleError(f"rule {self.target}: evaluate needs a value for '{symbol}' in \"{self.text}\"") from None

    def __str__(self) -> str:
        """Canonical text of the rule; ``parse_rule(str(rule))`` has the same terms."""
        out = ""
        for i, term in enumerate(self.terms):
            text = str(term)
            if i == 0:
                out = text
            elif text.startswith("-"):
                out += " - " + text[1:]
            else:
                out += " + " + text
        return out


# --- Parser


class _Tok(NamedTuple):
    kind: str  # 'num', 'name', one of '+-*^()', or 'end'
    text: str
    col: int  # 0-based index into the rule text


class _Parser:
    """Recursive-descent parser of one rule string (see docs/plasticity-language.md)."""

    def __init__(self, text: str, target: str) -> None:
        self.text = text
        self.target = target
        self.toks = self._tokenize()
        self.i = 0
        self.u_first: _Tok | None = None

    # errors and tokens

    def fail(self, what: str, tok: _Tok, tail: str = "") -> RuleError:
        quoted = json.dumps(self.text)  # escapes newlines: the message stays one line
        return RuleError(f"rule {self.target}: {what} at column {tok.col + 1} in {quoted}{tail}")

    @staticmethod
    def describe(tok: _Tok) -> str:
        return "end of rule" if tok.kind == "end" else f"'{tok.text}'"

    def _tokenize(self) -> list[_Tok]:
        toks, pos = [], 0
        while pos < len(self.text):
            m = _TOKEN_RE.match(self.text, pos)
            if m is None:
                raise self.fail(f"unexpected character {ascii(self.text[pos])}", _Tok("end", "", pos))
            if m.lastgroup != "space":
                kind = m.group() if m.lastgroup == "op" else m.lastgroup
                toks.append(_Tok(kind, m.group(), pos))
            pos = m.end()
        toks.append(_Tok("end", "", len(self.text)))
        return toks

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def take_sign(self) -> int | None:
        if self.peek().kind in ("+", "-"):
            return -1 if self.take().kind == "-" else 1
        return None

    # grammar

    def rule(self) -> Rule:
        if self.peek().kind == "end":
            raise self.fail("empty rule", self.peek(), " (expected a sum of products such as 2^-2*x0*y1)")
        terms = []
        while True:
            sign = self.take_sign()  # term() stops only before '+', '-' or the end
            terms.append(self.term(sign or 1, self.peek()))
            if self.peek().kind == "end":
                return Rule(self.target, self.text, tuple(terms))

    def term(self, sign: int, start: _Tok) -> ProductTerm:
        mant, exp = sign, 0
        dependency: str | None = None
        factors: list[Factor] = []
        while True:
            tok = self.take()
            if tok.kind == "num":
                m, e = self.number(tok)
                mant, exp = mant * m, exp + e
            elif tok.kind == "(":
                m, e, factor = self.bracket(tok, sgn=False)
                mant, exp = mant * m, exp + e
                if factor is not None:
                    factors.append(factor)
            elif tok.kind == "name" and tok.text == "sgn":
                _, _, factor = self.bracket(self.expect("(", " (sgn must be followed by '(')"), sgn=True)
                factors.append(factor)
            elif tok.kind == "name" and tok.text in SPIKE_DEPENDENCIES:
                if dependency is None:
                    dependency = tok.text
                else:
                    factors.append(Factor(tok.text))
            elif tok.kind == "name" and _U_RE.fullmatch(tok.text):
                self.check_u(tok)
                if dependency is None:
                    dependency = tok.text
                elif not dependency.startswith("u"):
                    raise self.fail(
                        f"'{tok.text}' after the dependency '{dependency}'",
                        tok,
                        " (u<k> must be the first dependency of its term, as in Lava)",
                    )
                # else: u<k> repeated in a term; u*u == u and Lava drops it too
            elif tok.kind == "name" and tok.text in VARIABLES:
                factors.append(Factor(tok.text))
            elif tok.kind == "name":
                raise self.unknown(tok)
            else:
                raise self.fail(f"expected a symbol, a constant, '(' or 'sgn(' but found {self.describe(tok)}", tok)
            if self.peek().kind != "*":
                break
            self.take()
        if self.peek().kind not in ("+", "-", "end"):
            tok = self.peek()
            raise self.fail(f"expected '*', '+', '-' or end of rule but found {self.describe(tok)}", tok)
        stop = self.toks[self.i - 1]
        written = self.text[start.col : stop.col + len(stop.text)]
        if dependency is None:
            raise self.fail(
                f"term '{written}' has no dependency", start, " (each product needs x0, y0 or u<k>)"
            )
        mant0, exp0 = mant, exp
        while abs(mant) > S_MANT_MAX and mant % 2 == 0 and exp < S_EXP_MAX:  # Lava's normalisation
            mant, exp = mant // 2, exp + 1
        if not (S_MANT_MIN <= mant <= S_MANT_MAX and S_EXP_MIN <= exp <= S_EXP_MAX):
            scale = f"{mant0}*2^{exp0}" if abs(mant0) < 10**30 else f"(too many digits)*2^{exp0}"
            raise self.fail(
                f"scale {scale} of term '{written}' is not representable",
                start,
                f" (need mantissa*2^exponent with mantissa in [{S_MANT_MIN}, {S_MANT_MAX}]"
                f" (W_S_MANT = 4 bits) and exponent in [{S_EXP_MIN}, {S_EXP_MAX}])",
            )
        return ProductTerm(-1 if mant < 0 else 1, abs(mant), exp, tuple(factors), dependency)

    def expect(self, kind: str, tail: str) -> _Tok:
        tok = self.take()
        if tok.kind != kind:
            raise self.fail(f"expected '{kind}' but found {self.describe(tok)}", tok, tail)
        return tok

    def unknown(self, tok: _Tok) -> RuleError:
        return self.fail(f"unknown symbol '{tok.text}'", tok, f" (allowed: {ALLOWED_SYMBOLS})")

    def check_u(self, tok: _Tok) -> None:
        if self.u_first is None:
            self.u_first = tok
        elif self.u_first.text != tok.text:
            raise self.fail(
                f"'{tok.text}'",
                tok,
                f" conflicts with '{self.u_first.text}' at column {self.u_first.col + 1}"
                " (Lava allows one u<k>, i.e. one decimation exponent k, per rule set)",
            )

    def digits(self, tok: _Tok) -> int:
        if len(tok.text) > MAX_DIGITS:
            raise self.fail(f"number with more than {MAX_DIGITS} digits", tok)
        if tok.text[0] == "0" and tok.text.strip("0"):
            raise self.fail(f"number '{tok.text}' with a leading zero", tok, " (Lava reads numbers as Python literals)")
        return int(tok.text)

    def number(self, tok: _Tok) -> tuple[int, int]:
        """A constant ``k`` or ``2^e`` whose first token ``tok`` was taken: (mantissa, exponent)."""
        k = self.digits(tok)
        if self.peek().kind != "^":
            return k, 0
        caret = self.take()
        if tok.text != "2":
            raise self.fail(f"'^' after '{tok.text}'", caret, " (only powers of two 2^e are allowed)")
        sign = self.take_sign() or 1
        etok = self.take()
        if etok.kind != "num":
            raise self.fail(f"expected an integer exponent after '2^' but found {self.describe(etok)}", etok)
        return 1, sign * self.digits(etok)

    def bracket_const(self, tok: _Tok) -> tuple[int, int]:
        """A constant inside brackets: one Lava literal ``k``, ``2^e`` or ``k*2^e``."""
        if self.peek().kind == "^":
            return self.number(tok)
        k = self.digits(tok)
        if self.peek().kind == "*":
            star = self.take()
            two = self.take()
            if not (two.text == "2" and self.peek().kind == "^"):
                raise self.fail("'*' inside brackets", star, " (a constant in brackets is k, 2^e or k*2^e)")
            return k, self.number(two)[1]
        return k, 0

    def bracket(self, open_tok: _Tok, sgn: bool) -> tuple[int, int, Factor | None]:
        """``( [+-] item [ (+|-) item ] )`` after ``(``: returns (scale mantissa, exponent, factor)."""
        items: list[tuple[int, str, Any, _Tok]] = []  # (sign, 'var'|'const', value, token)
        while len(items) < 2:
            sign = self.take_sign()
            if sign is None and items:
                break
            tok = self.take()
            if tok.kind == "num":
                items.append((sign or 1, "const", self.bracket_const(tok), tok))
            elif tok.kind == "name" and tok.text in VARIABLES + SPIKE_DEPENDENCIES:
                items.append((sign or 1, "var", tok.text, tok))
            elif tok.kind == "name" and (tok.text == "sgn" or _U_RE.fullmatch(tok.text)):
                raise self.fail(
                    f"'{tok.text}' inside brackets",
                    tok,
                    " (brackets hold one variable x0, y0, x1, x2, y1, y2, y3, w, d, t and/or one constant)",
                )
            elif tok.kind == "name":
                raise self.unknown(tok)
            elif tok.kind == "(":
                raise self.fail("nested brackets", tok, " (Lava drops them silently)")
            else:
                raise self.fail(f"expected a variable or a constant but found {self.describe(tok)}", tok)
        self.expect(")", f" (to close the bracket opened at column {open_tok.col + 1})")
        where = "sgn(...)" if sgn else "brackets"
        variables = [item for item in items if item[1] == "var"]
        constants = [item for item in items if item[1] == "const"]
        if not variables and len(items) == 1 and not sgn:
            sign, _, (m, e), _ = items[0]
            return sign * m, e, None  # a bracketed constant is part of the scale
        if len(variables) != 1:
            raise self.fail(
                f"{where} must hold one variable and at most one constant",
                items[-1][3],
                " (as in (x1 + 2) or sgn(w - 1))",
            )
        vsign, _, var, vtok = variables[0]
        if sgn and var not in SYNAPTIC_VARIABLES:
            raise self.fail(f"sgn of '{var}'", vtok, " (sgn(...) applies to w, d or t only)")
        if vsign < 0 and (sgn or not constants):
            raise self.fail(
                f"'-{var}' inside {where}",
                vtok,
                " (Lava ignores or rejects this sign; put the minus in front of the term)",
            )
        if not constants:
            if var in SPIKE_DEPENDENCIES:
                raise self.fail(f"'({var})' in brackets", vtok, " (Lava drops a bracketed dependency; write it bare)")
            return 1, 0, Factor(var, 0, sgn)
        csign, _, (m, e), ctok = constants[0]
        offset = vsign * csign * self.integer(m, e, ctok)  # vsign*var + c == vsign*(var + vsign*c)
        return vsign, 0, Factor(var, offset, sgn)

    def integer(self, m: int, e: int, tok: _Tok) -> int:
        if m == 0:
            return 0
        if e < 0:
            if (m & -m).bit_length() - 1 < -e:
                raise self.fail(f"constant {m}*2^{e} is not an integer", tok)
            value = m >> -e
        else:
            value = m << e if e < 64 else CONST_LIMIT
        if value >= CONST_LIMIT:
            raise self.fail("constant too large", tok, " (bracket constants must be below 2^63)")
        return value


def parse_rule(text: str, target: str = "dw") -> Rule:
    """Parse a rule string in Lava's sum-of-products syntax.

    Parameters
    ----------
    text : str
        E.g. ``"2^-2*x0*y1 - 2^-2*y0*x1"``.
    target : str
        ``'dw'``, ``'dd'`` or ``'dt'``; named in error messages.

    Returns
    -------
    Rule

    Raises
    ------
    RuleError
        One line naming the rule, the offending token and its (1-based)
        column: unknown symbol, syntax error, product without dependency,
        unrepresentable scale, conflicting ``u<k>``.
    """
    if target not in TARGETS:
        raise RuleError(f"rule {_show(target)}: unknown target (allowed: {', '.join(TARGETS)})")
    if not isinstance(text, str):
        raise RuleError(f"rule {target}: must be a string, got {type(text).__name__}")
    return _Parser(text, target).rule()


# --- Programs

_TRACE_FIELDS = TRACES
_OPTION_FIELDS = ("weight_unit", "post_factor", "reward", "pre_timing")
_FIELDS = TARGETS + _TRACE_FIELDS + ("t_epoch",) + _OPTION_FIELDS
POST_FACTORS: tuple[str, ...] = ("probability",)
"""Values of ``post_factor``: ``'probability'`` = y1 is the postsynaptic neuron's firing probability."""
PRE_TIMINGS: tuple[str, ...] = ("emission", "arrival")
"""Values of ``pre_timing``: when the learning engine sees a presynaptic spike (its emission step, or emission + 1)."""


@dataclass(frozen=True)
class PlasticityProgram:
    """A Loihi learning-engine program for one projection.

    Equality and hashing use the rule strings, traces and epoch length; the
    parsed rules are a cache.

    Parameters
    ----------
    dw, dd, dt : str or None
        Rules for the weight ``w``, the tag ``d`` and the tag ``t``; at
        least one must be given.
    x1, x2 : Trace
        Presynaptic traces.
    y1, y2, y3 : Trace
        Postsynaptic traces.
    t_epoch : int
        Learning epoch length in time steps, in [1, 63] (``W_EPOCH_TIME = 6``
        bits; see research/loihi.md, "Learning rules").
    weight_unit : float or None
        Physical weight (the projection's weight unit, e.g. mV or
        dimensionless) of one integer step of the learning engine's weight.
        When given, the compiler quantizes the projection so that one weight
        mantissa step is exactly this value, so rules written in integer
        weight steps mean the same thing after compilation. None lets the
        compiler choose (the report prints the unit it chose).
    post_factor : str or None
        ``'probability'``: the trace ``y1`` is not a spike trace but the
        postsynaptic neuron's firing probability in 7 bits (0..127), supplied
        by the neuron every step (Lava ``Loihi3FLearningRule`` style; the post
        population must be ``StochasticBinary``). None: ``y1`` is a spike trace.
    reward : str or None
        Name of a population whose spikes drive the ``y2`` trace (the third
        factor of reward-modulated rules) instead of the postsynaptic spikes;
        it must have one neuron (broadcast to every postsynaptic neuron) or as
        many as the postsynaptic population.
    pre_timing : str
        When the learning engine sees a presynaptic spike. ``'emission'``
        (default, Lava ``LearningDense``): at the step the presynaptic neuron
        emits it, so the rules pair the pre spikes of step ``r`` with the post
        spikes of step ``r``. ``'arrival'``: at the step it reaches the
        postsynaptic neuron, emission + 1 (plastic projections have delay 1),
        so the rules pair the pre spikes of step ``r - 1`` -- the ones that
        drove the post neuron's sample at step ``r`` -- with the post spikes
        (and probability) of step ``r``. Needs a Loihi 2 microcode learning
        engine (the compiler marks it so).

    Raises
    ------
    RuleError
        For a bad rule, field type or value; the message names the field.
    """

    dw: str | None = None
    dd: str | None = None
    dt: str | None = None
    x1: Trace = Trace()
    x2: Trace = Trace()
    y1: Trace = Trace()
    y2: Trace = Trace()
    y3: Trace = Trace()
    t_epoch: int = 1
    weight_unit: float | None = None
    post_factor: str | None = None
    reward: str | None = None
    pre_timing: str = "emission"
    _rules: Mapping[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in TARGETS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise RuleError(f"plasticity: field '{name}' must be a rule string or None, got {type(value).__name__}")
        for name in _TRACE_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Trace):
                raise RuleError(f"plasticity: field '{name}' must be a Trace, got {type(value).__name__}")
        if not _is_int(self.t_epoch) or not 1 <= self.t_epoch <= T_EPOCH_MAX:
            raise RuleError(
                f"plasticity: field 't_epoch' must be an integer in [1, {T_EPOCH_MAX}]"
                f" (W_EPOCH_TIME = 6 bits), got {_show(self.t_epoch)}"
            )
        if self.weight_unit is not None and (not _is_real(self.weight_unit) or not _finite(self.weight_unit) or not self.weight_unit > 0):
            raise RuleError(f"plasticity: field 'weight_unit' must be a finite number > 0 or None, got {_show(self.weight_unit)}")
        if self.post_factor is not None and self.post_factor not in POST_FACTORS:
            raise RuleError(f"plasticity: field 'post_factor' must be None or one of {', '.join(POST_FACTORS)}, got {_show(self.post_factor)}")
        if self.reward is not None and (not isinstance(self.reward, str) or not self.reward):
            raise RuleError(f"plasticity: field 'reward' must be a population name or None, got {_show(self.reward)}")
        if not isinstance(self.pre_timing, str) or self.pre_timing not in PRE_TIMINGS:
            raise RuleError(f"plasticity: field 'pre_timing' must be one of {', '.join(PRE_TIMINGS)}, got {_show(self.pre_timing)}")
        rules = {name: parse_rule(getattr(self, name), name) for name in TARGETS if getattr(self, name) is not None}
        if not rules:
            raise RuleError("plasticity: at least one of the rules dw, dd, dt must be given")
        with_u = [(name, rule.decimate_exponent) for name, rule in rules.items() if rule.decimate_exponent is not None]
        if len({k for _, k in with_u}) > 1:
            (a, ka), (b, kb) = with_u[0], next(item for item in with_u if item[1] != with_u[0][1])
            raise RuleError(
                f"plasticity: rule {b} uses 'u{kb}' but rule {a} uses 'u{ka}'"
                " (Lava allows one u<k>, i.e. one decimation exponent k, across dw, dd, dt)"
            )
        object.__setattr__(self, "_rules", MappingProxyType(rules))

    @property
    def rules(self) -> dict[str, Rule]:
        """The parsed rules, keyed by target (only the rules given)."""
        return dict(self._rules)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: rule strings, ``{"impulse", "tau"}`` per trace, ``t_epoch``, the options that are set.

        ``pre_timing`` is written only when it is not the default ``'emission'``.
        """
        out: dict[str, Any] = {name: getattr(self, name) for name in TARGETS if getattr(self, name) is not None}
        for name in _TRACE_FIELDS:
            trace = getattr(self, name)
            out[name] = {"impulse": float(trace.impulse), "tau": float(trace.tau)}
        out["t_epoch"] = int(self.t_epoch)
        if self.weight_unit is not None:
            out["weight_unit"] = float(self.weight_unit)
        for name in ("post_factor", "reward"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.pre_timing != "emission":
            out["pre_timing"] = self.pre_timing
        return out

    @classmethod
    def from_dict(cls, d: Any) -> PlasticityProgram:
        """Build a program from :meth:`to_dict` output (e.g. read from JSON).

        Missing fields take their defaults. Any wrong type or value raises
        :class:`RuleError` naming the field; nothing else is raised.
        """
        if not isinstance(d, Mapping):
            raise RuleError(f"plasticity: expected an object, got {type(d).__name__}")
        for key in d:
            if key not in _FIELDS:
                raise RuleError(f"plasticity: unknown field {_show(key)} (allowed: {', '.join(_FIELDS)})")
        kwargs: dict[str, Any] = {name: d[name] for name in TARGETS + ("t_epoch",) + _OPTION_FIELDS if name in d}
        for name in _TRACE_FIELDS:
            if name in d:
                kwargs[name] = _trace_from_dict(name, d[name])
        return cls(**kwargs)


def _trace_from_dict(name: str, value: Any) -> Trace:
    if not isinstance(value, Mapping):
        raise RuleError(f"trace '{name}': expected an object with 'impulse' and 'tau', got {type(value).__name__}")
    for key in value:
        if key not in ("impulse", "tau"):
            raise RuleError(f"trace '{name}': unknown field {_show(key)} (allowed: impulse, tau)")
    impulse, tau = value.get("impulse", 0.0), value.get("tau", 0.0)
    problem = _trace_problem(impulse, tau)
    if problem is not None:
        raise RuleError(f"trace '{name}': {problem}")
    return Trace(impulse, tau)

"""Ready plasticity programs: pair-based STDP and reward-modulated STDP.

Each function returns a :class:`~yuragi.ir.plasticity.PlasticityProgram` in
Lava's sum-of-products syntax (docs/plasticity-language.md), written the way
Lava's own ``STDPLoihi`` and ``RewardModulatedSTDP`` write theirs, so the
program means the same thing on Lava's engine and on yuragi's fixed-point
engine (:mod:`yuragi.fixedpoint.learning`). The Gibbs synapse is in
:mod:`yuragi.plasticity.gibbs`.

Every coefficient that becomes a product scale must be *exactly* a Loihi
scale ``m * 2**e`` (``m`` in [-8, 7], ``e`` in [-7, 8]); anything else raises
:class:`~yuragi.errors.RuleError` naming the parameter and the nearest
expressible values, instead of being rounded silently (Lava's
``float_to_literal`` rounds silently). A scale is written as Lava's
``float_to_literal`` writes it (mantissa = integer part, e.g. ``2`` and not
``2^1``) whenever that is exact: the split between mantissa and exponent
changes the result of products wider than 15 bits, which the engine shifts
right after multiplying by the mantissa.
"""

from __future__ import annotations

import math
from numbers import Real

from ..errors import RuleError
from ..ir.plasticity import S_EXP_MAX, S_EXP_MIN, S_MANT_MAX, S_MANT_MIN, PlasticityProgram, Trace

__all__ = ["expressible_scale", "nearest_scales", "rstdp", "scale_literal", "stdp"]


def expressible_scale(value: float) -> tuple[int, int] | None:
    """``(m, e)`` with ``value == m * 2**e`` exactly and the fewest mantissa bits, or None.

    ``m`` is in [-8, 7] and ``e`` in [-7, 8] (Lava's ``W_S_MANT = 4`` signed
    mantissa bits and 4-bit exponent); 0 gives ``(0, 0)``.
    """
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        return None
    if value == 0:
        return 0, 0
    for e in range(S_EXP_MIN, S_EXP_MAX + 1):
        m = value / 2.0**e
        if m == int(m) and S_MANT_MIN <= m <= S_MANT_MAX:
            m, e2 = int(m), e
            while m % 2 == 0 and e2 < S_EXP_MAX and S_MANT_MIN <= m // 2 <= S_MANT_MAX and m != 0:
                m, e2 = m // 2, e2 + 1
            return m, e2
    return None


def nearest_scales(value: float) -> tuple[float, float]:
    """The largest expressible scale <= ``value`` and the smallest >= ``value``."""
    grid = sorted({m * 2.0**e for m in range(S_MANT_MIN, S_MANT_MAX + 1) for e in range(S_EXP_MIN, S_EXP_MAX + 1)})
    below = max((g for g in grid if g <= value), default=grid[0])
    above = min((g for g in grid if g >= value), default=grid[-1])
    return below, above


def finite_number(value: object, where: str) -> float:
    """``value`` as a float, or RuleError ``"<where> must be a finite number"`` (bools are not numbers)."""
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        raise RuleError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def scale_literal(value: float, where: str) -> str:
    """Rule literal ``m*2^e`` of an exactly expressible scale, else RuleError naming ``where``."""
    finite_number(value, where)
    me = expressible_scale(value)
    if me is None:
        lo, hi = nearest_scales(value)
        raise RuleError(
            f"{where} = {value!r} is not a Loihi product scale m*2^e (m in [{S_MANT_MIN}, {S_MANT_MAX}],"
            f" e in [{S_EXP_MIN}, {S_EXP_MAX}]); nearest expressible: {lo!r} or {hi!r}"
        )
    m, e = _lava_form(value) or me
    if e == 0:
        return f"{m}"
    return f"2^{e}" if m == 1 else f"{m}*2^{e}"


def _lava_form(value: float) -> tuple[int, int] | None:
    """``(m, e)`` as Lava's ``float_to_literal`` writes ``value`` (mantissa = integer part), if that is exact.

    The mantissa/exponent split matters when the engine shifts a wide
    product right (``(product * m) >> shift``): writing a scale as Lava does
    keeps our programs' arithmetic identical to Lava's rule classes.
    """
    mag = abs(value)
    m = max(int(mag), 1)
    ratio = mag / m
    e = round(math.log2(ratio)) if ratio > 0 else 0
    if ratio != 2.0**e:
        return None
    while m > S_MANT_MAX and m % 2 == 0:  # Lava's parser normalisation
        m, e = m // 2, e + 1
    m = -m if value < 0 else m
    if not (S_MANT_MIN <= m <= S_MANT_MAX and S_EXP_MIN <= e <= S_EXP_MAX):
        return None
    return m, e


def _term(scale: float, body: str, where: str) -> str:
    """`` + m*2^e*body`` (or `` - ...``), empty for a zero scale."""
    if scale == 0:
        return ""
    lit = scale_literal(abs(scale), where)
    return f" {'-' if scale < 0 else '+'} {'' if lit == '1' else lit + '*'}{body}"


def _rule(*terms: str) -> str | None:
    text = "".join(terms).strip()
    if not text:
        return None
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _trace(who: str, params: str, impulse: float, tau: float) -> Trace:
    """A Trace, its RuleError naming the function and parameters it came from."""
    try:
        return Trace(impulse, tau)
    except RuleError as err:
        raise RuleError(f"{who}: {params}: {str(err).removeprefix('trace: ')}") from None


def _check_epoch(t_epoch: object, who: str) -> None:
    if not isinstance(t_epoch, int) or isinstance(t_epoch, bool) or not 1 <= t_epoch <= 63:
        raise RuleError(f"{who}: t_epoch must be an integer in [1, 63], got {t_epoch!r}")


def stdp(
    a_plus: float,
    a_minus: float,
    tau_plus: float,
    tau_minus: float,
    impulse: float = 16.0,
    learning_rate: float = 1.0,
    t_epoch: int = 1,
) -> PlasticityProgram:
    """Pair-based STDP in the form of Lava's ``STDPLoihi``.

    Float form (Gerstner et al. 1996; Lava's signs: ``a_minus`` is usually
    negative)::

        x1 <- x1 * exp(-1/tau_plus)  + impulse * s_pre     (presynaptic trace)
        y1 <- y1 * exp(-1/tau_minus) + impulse * s_post    (postsynaptic trace)
        dw  = lr*a_minus * s_pre * y1 + lr*a_plus * s_post * x1

    i.e. a post spike potentiates by ``lr * a_plus * x1`` (pre-before-post)
    and a pre spike changes the weight by ``lr * a_minus * y1``
    (post-before-pre; depression when ``a_minus < 0``).

    Integer form on the learning engine (``t_epoch = 1``; ``w`` in weight
    mantissa units, traces 7-bit integers)::

        dw = "m-*2^e-*x0*y1 + m+*2^e+*y0*x1"      with m*2^e = lr*a exactly
        w  <- w + SR(m+ 2^e+ x1 [post spiked] + m- 2^e- y1 [pre spiked])

    Each product has width 7 + 4 = 11 bits < 15, so Lava's engine applies no
    right shift; ``SR`` is stochastic rounding of the 7 fractional bits. The
    traces decay every step by ``D/4096`` with ``D = round(4096
    exp(-1/tau))`` and stochastic rounding (yuragi's integer decay; Lava
    uses a float exponential), saturate at 127 and take ``impulse`` with 8
    fractional bits. With ``t_epoch > 1`` ``x0``/``y0`` mean "spiked in the
    epoch" and traces are read at the last spike of the epoch.

    Parameters
    ----------
    a_plus, a_minus : float
        Amplitudes (weight mantissa units per trace unit); ``learning_rate *
        a`` must be an exact Loihi scale ``m*2^e``.
    tau_plus, tau_minus : float
        Pre and post trace time constants, steps (0: no decay).
    impulse : float
        Trace increment per spike, in [0, 127] (Lava's default 16).
    learning_rate : float
        Multiplies both amplitudes (Lava's ``learning_rate``).
    t_epoch : int
        Learning epoch, steps, in [1, 63].

    Returns
    -------
    PlasticityProgram

    Raises
    ------
    RuleError
        A coefficient that is not an expressible scale, or a bad trace/epoch.
    """
    _check_epoch(t_epoch, "stdp")
    for name, value in (("a_plus", a_plus), ("a_minus", a_minus), ("learning_rate", learning_rate)):
        finite_number(value, f"stdp: {name}")
    dw = _rule(
        _term(learning_rate * a_minus, "x0*y1", "stdp: learning_rate*a_minus"),
        _term(learning_rate * a_plus, "y0*x1", "stdp: learning_rate*a_plus"),
    )
    if dw is None:
        raise RuleError("stdp: learning_rate*a_plus and learning_rate*a_minus are both 0; the rule would be empty")
    return PlasticityProgram(
        dw=dw, x1=_trace("stdp", "impulse/tau_plus", impulse, tau_plus),
        y1=_trace("stdp", "impulse/tau_minus", impulse, tau_minus), t_epoch=t_epoch,
    )


def rstdp(
    a_plus: float,
    a_minus: float,
    tau_plus: float,
    tau_minus: float,
    eligibility_decay: float,
    reward: str,
    reward_impulse: float = 16.0,
    reward_tau: float = 0.0,
    impulse: float = 16.0,
    learning_rate: float = 1.0,
    weight_rate: float = 1.0,
    t_epoch: int = 1,
) -> PlasticityProgram:
    """Reward-modulated STDP (3-factor) in the form of Lava's ``RewardModulatedSTDP``.

    The STDP term of :func:`stdp` is accumulated in the tag ``t`` (the
    eligibility trace, decaying by ``eligibility_decay`` per epoch), and the
    weight follows ``t`` times the reward trace ``y2``, which the spikes of
    the ``reward`` population drive (``PlasticityProgram.reward``; Frémaux &
    Gerstner 2016).

    Float form (per epoch of ``t_epoch`` steps)::

        t  <- t + lr*a_minus * s_pre * y1 + lr*a_plus * s_post * x1 - eligibility_decay * t
        y2 <- y2 * exp(-1/reward_tau) + reward_impulse * s_reward
        w  <- w + weight_rate * t * y2

    Integer form::

        dt = "lr*a_minus*x0*y1 + lr*a_plus*y0*x1 - eligibility_decay*u0*t"
        dw = "weight_rate*u0*t*y2"
        t <- SR(t + ...) saturated to [-257, 255]
        w <- w + SR(weight_rate * floor(t * y2 / 32))

    The ``/ 32`` is Lava's fixed-point engine: the product ``t * y2`` has
    width 9 + 7 + 4 = 20 bits, 5 more than the 15-bit accumulator, so the
    engine shifts it right by 5 (``floor``). Lava's float engine has no such
    shift; choose ``weight_rate`` for the integer form. The ``t`` rule's
    products have width 11 and ``u0*t`` width 13: no shift.

    Parameters
    ----------
    a_plus, a_minus, tau_plus, tau_minus, impulse, learning_rate :
        As in :func:`stdp` (they drive ``t`` instead of ``w``).
    eligibility_decay : float
        Fraction of ``t`` removed each epoch (Lava's
        ``eligibility_trace_decay_tau``, which is used as this fraction); an
        exact scale, 0 for none. The time constant is ``t_epoch /
        eligibility_decay`` steps.
    reward : str
        Name of the reward population (1 neuron, or one per post neuron).
    reward_impulse, reward_tau : float
        The ``y2`` trace: impulse per reward spike in [0, 127] and decay
        time constant in steps (0: no decay).
    weight_rate : float
        Scale of ``t * y2`` in ``dw``; an exact scale.
    t_epoch : int
        Learning epoch, steps, in [1, 63].

    Returns
    -------
    PlasticityProgram

    Raises
    ------
    RuleError
        A coefficient that is not an expressible scale, an empty reward
        name, or a bad trace/epoch.
    """
    _check_epoch(t_epoch, "rstdp")
    for name, value in (("a_plus", a_plus), ("a_minus", a_minus), ("learning_rate", learning_rate),
                        ("eligibility_decay", eligibility_decay), ("weight_rate", weight_rate)):
        finite_number(value, f"rstdp: {name}")
    if not isinstance(reward, str) or not reward:
        raise RuleError(f"rstdp: reward must be the name of a population, got {reward!r}")
    dt = _rule(
        _term(learning_rate * a_minus, "x0*y1", "rstdp: learning_rate*a_minus"),
        _term(learning_rate * a_plus, "y0*x1", "rstdp: learning_rate*a_plus"),
        _term(-eligibility_decay, "u0*t", "rstdp: eligibility_decay"),
    )
    if dt is None:
        raise RuleError("rstdp: every coefficient of the eligibility rule dt is 0")
    if weight_rate == 0:
        raise RuleError("rstdp: weight_rate is 0; the weight would never change")
    dw = _rule(_term(weight_rate, "u0*t*y2", "rstdp: weight_rate"))
    return PlasticityProgram(
        dt=dt, dw=dw,
        x1=_trace("rstdp", "impulse/tau_plus", impulse, tau_plus),
        y1=_trace("rstdp", "impulse/tau_minus", impulse, tau_minus),
        y2=_trace("rstdp", "reward_impulse/reward_tau", reward_impulse, reward_tau),
        t_epoch=t_epoch, reward=reward,
    )

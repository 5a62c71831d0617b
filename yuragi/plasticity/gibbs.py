"""The Gibbs synapse of the dual sampling network as a Loihi learning-engine program.

Float rule (research/dsnn.md section 2, small-Delta form; docs/plasticity.md)
-------------------------------------------------------------------------------
A synapse ``j -> i`` is made of ``K`` binary contacts ``c`` in {0, 1}; its
weight is ``w = g * sum_k (2 c_k - 1) / K`` and one contact's weight step is
``dw = 2 g / K``. Each contact keeps an evidence trace and is resampled from
its conditional::

    L <- gamma * L + s_j * (s_i - p_i)  [+ kappa * s_j * (2 c - 1)]     gamma = 1 - 1/tau_s
    P(c = 1) = sigmoid(logit(rho) + gain * L),   gain = beta * dw / T     (resampled w.p. p_s)

``p_i`` is the post neuron's firing probability. The bracketed *midpoint
term* (``kappa = nu dw / (8 T)``) evaluates the post probability at the
midpoint of the two candidate weights instead of at the current weight
(``f(u - dw (c - 1/2) s_j) ~ p_i - f' dw (c - 1/2) s_j`` with the
fixed-point neuron's slope ``f' = 1/(4T)`` in its linear range, ``nu`` the
fraction of time spent there, 0.75 by default); without it the evidence of
a synapse that already has the right value averages zero and memories
decay (docs/plasticity.md, "Teacher-student").

Integer program (the lead's design, checked here against yuragi.fixedpoint)
---------------------------------------------------------------------------
The contact is the plastic projection's integer weight (mantissa 0/1, one
unit = ``dw``, sign mode excitatory); a static projection of weight ``-g``
gives ``w = g (2c - 1)`` for ``K = 1``. The post population is
``StochasticBinary`` and ``post_factor='probability'`` makes
``y1 = floor(128 p_i)``. With ``A = 2**a`` and ``t_epoch = 1``::

    dt = "-A*x0*y0 + A*2^-7*x0*y1 - 2*K_t*x0*w + (K_t + 2^(a-8))*x0 - 2^-m*u{k}*t"
    dw = "-u{k}*w + q/128*u{k} - 4*2^-6*u{k}*(t - 4)*(x2 + 1)"

* ``t`` holds **minus** the evidence, ``t ~ -A * L``: every step
  ``t += -A s_j (s_i - y1/128) - K_t s_j (2c - 1) + 2^(a-8) s_j`` and
  every ``2**k`` steps ``t -= t * 2**-m``, each with stochastic rounding;
  ``t`` saturates at ``[-257, 255]``. So ``tau_s = 2**k / -ln(1 - 2**-m)``
  (about ``2**(m+k)``) and ``K_t = A * kappa`` rounded to a Loihi scale.
  The ``2^(a-8)`` term cancels the mean rounding of ``y1 = floor(128 p)``
  (``p - 1/256`` on average; left out for ``a = 0``, where it is not
  expressible). Constants that are not one Loihi scale are written as two
  terms.
* every ``2**k`` steps (``p_s = 2**-k``) the weight is rewritten: ``-u*w``
  clears it, the constant puts ``q/128`` in the accumulator and the last
  product adds ``2 * floor((4 - t) / 8) / 128``. Its width is
  9 (t) + 7 (x2) + 4 = 20 bits, so Lava's engine shifts the product right by
  5 (the trace ``x2`` is never driven: ``x2 + 1 = 1`` only widens the
  product); with the mantissa -4 (Lava writes ``-8*2^-7`` as ``-4*2^-6``) the
  result is ``2 * floor(-4 (t - 4) / 32)``. Stochastic rounding of the
  accumulator is the Bernoulli draw::

      P(c = 1 | t) = clip(q + 2 * floor((4 - t) / 8), 0, 128) / 128

  a hard sigmoid ``clip(q/128 + gain * L / 4)`` with ``gain = 2**(a - 7)``
  that reaches 0 and 1 exactly where ``t`` saturates. The ``- 4`` rounds
  ``-t/8`` to nearest (mean bias 1/8 of a 1/128 step; ``floor(-t/8)`` alone
  is biased by 7/8 of a step).
* ``q = round(128 rho)``. For ``q <= 64`` the accumulator lies in
  ``[q - 64, q + 64]`` and the excitatory sign mode clips its negative part
  to 0, so ``w`` stays in {0, 1}. For ``q > 64`` the accumulator could pass
  128 (``w = 2``), so the program stores ``c - 1`` in {-1, 0} instead (sign
  mode inhibitory, constant ``(q - 128)/128``, midpoint terms for
  ``2c - 1 = 2w + 1``) and the static projection is ``+g``. ``q = 64`` is
  safe in any sign mode.

Pre timing
----------
The evidence of a contact is ``s_j(r - 1) (s_i(r) - p_i(r))``: the post
neuron's sample and probability at step ``r`` are caused by the presynaptic
spikes of step ``r - 1`` (a projection's one-step delay). Lava's
``LearningDense`` pairs the post spike of step ``r`` with the pre spikes of
the *same* step, which in a compiled network are uncorrelated with it, so
the evidence would be noise and nothing is learned (docs/plasticity.md,
"Networks with synaptic delay"). The programs here therefore default to
``pre_timing='arrival'``: the engine sees a presynaptic spike at the step it
reaches the post neuron. Pass ``pre_timing='emission'`` for Lava's pairing
(e.g. in a plain loop that already pairs each output with its own inputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from ..errors import ModelError, RuleError
from ..ir.network import NetworkBuilder
from ..ir.neurons import StochasticBinary
from ..ir.plasticity import PlasticityProgram
from .programs import _rule, _term, expressible_scale, finite_number

__all__ = [
    "A_RANGE",
    "GibbsFloat",
    "GibbsParameters",
    "K_RANGE",
    "M_RANGE",
    "ROUNDING_OFFSET",
    "TAG_MAX",
    "TAG_MIN",
    "gibbs_parameters",
    "gibbs_projections",
    "gibbs_synapse",
    "tag_conditional",
]

A_RANGE = (0, 7)
"""Tag scale exponent ``a``: ``-2^a*x0*y0`` is ``2**(a + 7)`` in the 16-bit accumulator (<= 2**14)."""
M_RANGE = (1, 7)
"""Tag decay exponent ``m``: ``2^-m`` needs ``-m >= -7``; ``m = 0`` would clear ``t`` (a box window)."""
K_RANGE = (0, 9)
"""Resampling exponent ``k`` of ``u<k>``: Lava has ``u0`` .. ``u9``."""
Q_RANGE = (1, 127)
"""Prior offset ``q = 128 rho``."""
TAG_MIN, TAG_MAX = -257, 255
"""Saturation of the tag ``t`` (9 signed bits, Lava's ``_saturate_synaptic_variable``)."""
ROUNDING_OFFSET = 4
"""The ``c`` of ``(t - c)`` in the dw product: rounds ``-t/8`` to nearest."""
KAPPA_T_MAX = 112.0
"""Largest ``K_t`` (7 * 2**4): ``2*K_t*x0*w`` must stay within the accumulator (``2 K_t 2**7 < 2**15``)."""

_SCALES = sorted({m * 2.0**e for m in range(1, 8) for e in range(-7, 9)})


def _int_in(value: object, lo: int, hi: int, what: str) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or not lo <= int(value) <= hi:
        raise RuleError(f"gibbs_synapse: {what} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _real(value: object, what: str, who: str) -> float:
    return finite_number(value, f"{who}: {what}")


def tag_conditional(t: np.ndarray, q: int = 64) -> np.ndarray:
    """``P(c = 1 | t) = clip(q + 2 floor((4 - t)/8), 0, 128) / 128``: the program's conditional given the tag."""
    t = np.asarray(t, dtype=np.int64)
    return np.clip(q + 2 * np.floor_divide(ROUNDING_OFFSET - t, 8), 0, 128) / 128.0


def _constant_terms(value: int) -> list[float]:
    """Fewest Loihi scales (multiples of 2**-7) summing to ``value / 128``."""
    target = value / 128.0
    if target == 0:
        return []
    signed = _SCALES + [-s for s in _SCALES] + [-8 * 2.0**e for e in range(-7, 9)]
    if expressible_scale(target) is not None:
        return [target]
    for first in sorted(signed, key=lambda s: (-abs(s), s)):
        rest = target - first
        if expressible_scale(rest) is not None and rest != 0:
            return [first, rest]
    raise RuleError(f"gibbs_synapse: the prior offset {value}/128 is not a sum of two Loihi scales")  # pragma: no cover


def _nearest_scale(value: float) -> float:
    """Nearest positive Loihi scale ``m*2^e`` (m in 1..7) to ``value`` (0 for values below half the smallest)."""
    if value <= 0 or value < _SCALES[0] / 2:
        return 0.0
    return min(_SCALES, key=lambda s: (abs(math.log(s / value)), s))


@dataclass(frozen=True)
class GibbsFloat:
    """Float hyperparameters realised by a :class:`GibbsParameters` (see :meth:`GibbsParameters.to_float`)."""

    tau_s: float
    beta: float
    p_s: float
    rho: float
    kappa: float


@dataclass(frozen=True)
class GibbsParameters:
    """Integer hyperparameters of the Gibbs-synapse program.

    Parameters
    ----------
    a : int
        Tag scale exponent in [0, 7]: ``t ~ -2**a L``; conditional gain
        ``2**(a - 7)`` per unit of ``L``.
    m : int
        Tag decay exponent in [1, 7]: ``t -= t 2**-m`` every ``2**k`` steps.
    k : int
        Resampling exponent in [0, 9]: resample every ``2**k`` steps.
    q : int
        Prior offset in [1, 127]: ``P(c = 1 | t = 0) = q / 128``.
    kappa_t : float
        Midpoint term per presynaptic spike in tag units (``2**a * kappa``),
        0 or a Loihi scale ``m*2^e`` with m in 1..7, at most 127.
    """

    a: int = 2
    m: int = 7
    k: int = 6
    q: int = 64
    kappa_t: float = 0.0

    def __post_init__(self) -> None:
        _int_in(self.a, *A_RANGE, "a (tag scale exponent)")
        _int_in(self.m, *M_RANGE, "m (tag decay exponent)")
        _int_in(self.k, *K_RANGE, "k (resampling exponent, u<k>)")
        _int_in(self.q, *Q_RANGE, "q (prior offset, 128*rho)")
        kt = _real(self.kappa_t, "kappa_t", "gibbs_synapse")
        if kt != 0 and (kt < 0 or kt > KAPPA_T_MAX or expressible_scale(kt) is None):
            raise RuleError(
                f"gibbs_synapse: kappa_t must be 0 or a Loihi scale m*2^e (m in 1..7) in (0, {KAPPA_T_MAX:g}],"
                f" got {self.kappa_t!r}; nearest: {_nearest_scale(min(max(kt, 0.0), KAPPA_T_MAX))!r}"
            )

    @property
    def gain(self) -> float:
        """``2**(a - 7)``: the conditional's slope is ``gain / 4`` per unit of evidence ``L``."""
        return 2.0 ** (self.a - 7)

    @property
    def tau_s(self) -> float:
        """Evidence time constant, steps: ``2**k / -ln(1 - 2**-m)`` (per-step retention of the tag)."""
        return 2.0**self.k / -math.log1p(-(2.0 ** -self.m))

    @property
    def p_s(self) -> float:
        """Resamples per contact per step, ``2**-k`` (every ``2**k`` steps, all contacts at once)."""
        return 2.0 ** -self.k

    @property
    def rho(self) -> float:
        """Prior ``q / 128``."""
        return self.q / 128.0

    @property
    def kappa(self) -> float:
        """Midpoint term per presynaptic spike in units of ``L``: ``kappa_t / 2**a``."""
        return self.kappa_t / 2.0**self.a

    @property
    def evidence_limit(self) -> float:
        """``|L|`` at which the tag saturates, ``256 / 2**a`` (the conditional is then 0 or 1)."""
        return 256.0 / 2.0**self.a

    @property
    def stores_complement(self) -> bool:
        """True for ``q > 64``: the weight holds ``c - 1`` in {-1, 0} (sign mode inhibitory)."""
        return self.q > 64

    def to_float(self, weight_step: float = 1.0, temperature: float = 1.0) -> GibbsFloat:
        """The float hyperparameters this program realises for contacts of weight step ``weight_step``.

        The hard sigmoid's slope at ``L = 0``, ``gain / 4``, is matched to the
        sigmoid's, ``rho (1 - rho) beta dw / T``: ``beta = gain T / (4 rho
        (1 - rho) weight_step)`` (``gain T / weight_step`` for rho = 1/2).
        """
        beta = self.gain * temperature / (4.0 * self.rho * (1.0 - self.rho) * weight_step)
        return GibbsFloat(self.tau_s, beta, self.p_s, self.rho, self.kappa)

    def _x0_constant(self) -> int:
        """The ``x0`` constant of ``dt`` in 1/128 tag units: midpoint part and the y1 rounding correction."""
        sign = 1 if self.stores_complement else -1  # 2c - 1 = 2w + 1 (complement) or 2w - 1
        value = -sign * self.kappa_t * 128
        if self.a >= 1:
            value += 2.0 ** (self.a - 1)  # 2^(a-8) in 1/128 units: y1 = floor(128 p) is p - 1/256 on average
        return int(round(value))

    def program(self, weight_unit: float | None = None, pre_timing: str = "arrival") -> PlasticityProgram:
        """The :class:`PlasticityProgram` (``t_epoch = 1``, ``post_factor='probability'``, ``pre_timing`` as given; module docstring)."""
        a, u = self.a, f"u{self.k}"
        dt = _rule(
            _term(-(2.0**a), "x0*y0", "gibbs_synapse: 2^a"),
            _term(2.0 ** (a - 7), "x0*y1", "gibbs_synapse: 2^(a-7)"),
            _term(-2.0 * self.kappa_t, "x0*w", "gibbs_synapse: 2*kappa_t"),
            *(_term(c, "x0", "gibbs_synapse: x0 constant") for c in _constant_terms(self._x0_constant())),
            _term(-(2.0 ** -self.m), f"{u}*t", "gibbs_synapse: 2^-m"),
        )
        offset = self.q - 128 if self.stores_complement else self.q
        dw = _rule(
            _term(-1.0, f"{u}*w", "gibbs_synapse"),
            *(_term(c, u, "gibbs_synapse: prior offset") for c in _constant_terms(offset)),
            # the mantissa -4 (not -1*2^-4) sets the resolution: Lava shifts the product right after it
            f" - 4*2^-6*{u}*(t - {ROUNDING_OFFSET})*(x2 + 1)",
        )
        return PlasticityProgram(dt=dt, dw=dw, t_epoch=1, post_factor="probability", weight_unit=weight_unit, pre_timing=pre_timing)


def gibbs_synapse(a: int = 2, m: int = 7, k: int = 6, rho: float = 0.5, kappa: float = 0.0, weight_unit: float | None = None,
                  pre_timing: str = "arrival") -> PlasticityProgram:
    """The Gibbs-synapse program: binary contacts resampled from their conditional.

    Float form (``A = 2**a``, ``gain = 2**(a - 7)``, ``rho = q/128``)::

        L <- (1 - 1/tau_s) L + s_pre (s_post - p_post) + kappa s_pre (2c - 1)
        every 2**k steps: c ~ Bernoulli(clip(rho + gain L / 4, 0, 1))
        tau_s = 2**k / -ln(1 - 2**-m)

    Integer form (``t ~ -A L``; module docstring for every number)::

        dt = "-A*x0*y0 + A*2^-7*x0*y1 - 2*K_t*x0*w + (K_t + 2^(a-8))*x0 - 2^-m*u{k}*t"
        dw = "-u{k}*w + q/128*u{k} - 4*2^-6*u{k}*(t - 4)*(x2 + 1)"
        P(c = 1 | t) = clip(q + 2 floor((4 - t)/8), 0, 128) / 128

    Parameters
    ----------
    a, m, k : int
        Tag scale, tag decay and resampling exponents (:class:`GibbsParameters`).
    rho : float
        Prior ``P(c = 1)`` in (0, 1), realised as ``q = round(128 rho)`` in [1, 127].
        ``q > 64`` gives the complement form (weights ``c - 1``; use
        :func:`gibbs_projections`, which sets the weights and the static
        projection to match).
    kappa : float
        Midpoint term per presynaptic spike in units of the evidence ``L``
        (``dw / (8 T)`` for contacts of step ``dw`` onto neurons at
        temperature ``T``); ``2**a * kappa`` is rounded to the nearest Loihi
        scale (``GibbsParameters.kappa`` gives the realised value).
    weight_unit : float, optional
        The contact's weight step ``dw`` (the program's ``weight_unit``).
    pre_timing : str
        ``'arrival'`` (default): the evidence pairs the post spike of step
        ``r`` with the pre spikes of step ``r - 1`` that drove it, the
        pairing a network with one-step synaptic delays needs;
        ``'emission'``: Lava's same-step pairing (module docstring).

    Returns
    -------
    PlasticityProgram
    """
    return _params(a, m, k, rho, kappa).program(weight_unit, pre_timing)


def _params(a: int, m: int, k: int, rho: float, kappa: float) -> GibbsParameters:
    rho = _real(rho, "rho", "gibbs_synapse")
    if not 0 < rho < 1:
        raise RuleError(f"gibbs_synapse: rho must be in (0, 1), got {rho!r}")
    q = int(round(128 * rho))
    if not Q_RANGE[0] <= q <= Q_RANGE[1]:
        raise RuleError(f"gibbs_synapse: rho = {rho!r} rounds to q = {q}/128; the program needs q in [1, 127] (rho in [0.0039, 0.996])")
    kappa = _real(kappa, "kappa", "gibbs_synapse")
    if kappa < 0:
        raise RuleError(f"gibbs_synapse: kappa must be >= 0, got {kappa!r}")
    a = _int_in(a, *A_RANGE, "a (tag scale exponent)")
    return GibbsParameters(a, m, k, q, min(_nearest_scale(kappa * 2.0**a), KAPPA_T_MAX))


def _midpoint(nu: object, who: str) -> float:
    value = _real(nu, "midpoint", who)
    if not 0.0 <= value <= 1.0:
        raise RuleError(f"{who}: midpoint must be in [0, 1] (fraction of time in the linear range), got {nu!r}")
    return value


def _log2_nearest(value: float, lo: int, hi: int, problem: str) -> int:
    """``round(log2(value))`` in [lo, hi]; RuleError ``problem`` if ``value`` is beyond the range by more than sqrt(2)."""
    if not lo - 0.5 <= math.log2(value) <= hi + 0.5:
        raise RuleError(problem)
    return int(min(max(round(math.log2(value)), lo), hi))


def gibbs_parameters(
    tau_s: float,
    beta: float,
    p_s: float,
    rho: float = 0.5,
    weight_step: float = 1.0,
    temperature: float = 1.0,
    midpoint: float = 0.75,
) -> GibbsParameters:
    """The expressible :class:`GibbsParameters` nearest to float hyperparameters.

    Parameters
    ----------
    tau_s : float
        Evidence time constant, steps.
    beta : float
        Inverse temperature of the conditional (dsnn.md section 2).
    p_s : float
        Resampling probability per step; realised as every ``2**k`` steps,
        ``k = round(-log2 p_s)`` in [0, 9].
    rho : float
        Prior ``P(c = 1)``; realised as ``q = round(128 rho)``.
    weight_step : float
        The contact's weight step ``dw = 2 g / K`` (in the post population's
        input units).
    temperature : float
        The post neurons' temperature ``T``.
    midpoint : float
        ``nu`` in [0, 1] of the midpoint term ``kappa = nu * dw / (8 T)``:
        the fraction of time the post neurons are in the linear range of
        their activation (0 drops the term; see the module docstring).

    Returns
    -------
    GibbsParameters
        ``k`` nearest in log2 to ``p_s``; then ``m`` in [1, 7] with
        ``tau_s`` nearest in log; ``a = round(7 + log2(beta dw / T))`` in
        [0, 7] (times ``4 rho (1 - rho)``, which matches the hard sigmoid's
        slope at ``L = 0`` to the sigmoid's); ``kappa_t`` the nearest Loihi
        scale to ``2**a kappa``.

    Raises
    ------
    RuleError
        A value outside what the program can express (named, with the range).
    """
    who = "gibbs_parameters"
    for name, value in (("tau_s", tau_s), ("beta", beta), ("p_s", p_s), ("weight_step", weight_step), ("temperature", temperature)):
        if not _real(value, name, who) > 0:
            raise RuleError(f"{who}: {name} must be > 0, got {value!r}")
    if p_s > 1:
        raise RuleError(f"{who}: p_s must be in (0, 1], got {p_s!r}")
    k = _log2_nearest(1.0 / p_s, *K_RANGE, f"{who}: p_s = {p_s!r} is outside what the program can express (2^-k, k in 0..9)")
    taus = {m: 2.0**k / -math.log1p(-(2.0**-m)) for m in range(M_RANGE[0], M_RANGE[1] + 1)}
    if not min(taus.values()) / 2**0.5 <= tau_s <= max(taus.values()) * 2**0.5:
        raise RuleError(
            f"{who}: tau_s = {tau_s!r} steps is outside what the program can express with p_s = 2^-{k}"
            f" ({min(taus.values()):.4g} .. {max(taus.values()):.4g} steps)"
        )
    m = min(taus, key=lambda mm: abs(math.log(taus[mm] / tau_s)))
    rho_q = _params(A_RANGE[0], M_RANGE[0], K_RANGE[0], rho, 0.0).rho  # checks rho
    gain = 4.0 * rho_q * (1.0 - rho_q) * beta * weight_step / temperature  # slope match at L = 0
    a = _log2_nearest(gain * 2.0**7, *A_RANGE, (
        f"{who}: beta = {beta!r} gives the conditional gain 4 rho (1 - rho) beta weight_step / temperature = {gain:.4g},"
        " outside what the program can express (2^(a-7), a in 0..7)"))
    kappa = _midpoint(midpoint, who) * weight_step / (8.0 * temperature)
    return _params(a, m, k, rho, kappa)


def _population(builder: NetworkBuilder, name: str) -> tuple[int, object]:
    """Size and model of a population already added to ``builder``."""
    for pop in builder._populations:  # the builder has no public lookup
        if pop.name == name:
            return pop.size, pop.model
    raise ModelError(f"gibbs_projections: add population '{name}' to the builder before connecting it")


def gibbs_projections(
    builder: NetworkBuilder,
    pre: str,
    post: str,
    g: float,
    K: int = 1,
    rho: float = 0.5,
    seed: int = 0,
    a: int = 2,
    m: int = 7,
    k: int = 6,
    midpoint: float = 0.75,
    mask: np.ndarray | None = None,
    name: str | None = None,
    pre_timing: str = "arrival",
) -> tuple[str, ...]:
    """Add Gibbs synapses ``pre -> post`` to ``builder``: K plastic contact projections and one static.

    Contact ``k`` of synapse ``(i, j)`` starts at ``c ~ Bernoulli(rho)``
    (numpy ``default_rng(seed)``). Projection ``"{name}.c{k}"`` holds the
    contacts as sparse weights ``c * dw`` (``dw = 2 g / K``, explicit zeros
    kept) with program :func:`gibbs_synapse` and ``weight_unit = dw``;
    ``"{name}.base"`` holds ``-g`` per synapse, so ``w = g sum_k (2 c_k - 1) / K``.
    For ``round(128 rho) > 64`` the contacts are stored as ``(c - 1) dw`` and
    the static weight is ``+g`` (see :mod:`yuragi.plasticity.gibbs`).

    Parameters
    ----------
    builder : NetworkBuilder
        Holds ``pre`` and ``post`` already; ``post`` must be ``StochasticBinary``.
    pre, post : str
        Population names.
    g : float
        Weight magnitude (> 0), in the post population's input units.
    K : int
        Contacts per synapse (>= 1).
    rho : float
        Prior ``P(c = 1)``.
    seed : int
        Seed of the initial contacts.
    a, m, k : int
        Program exponents (:class:`GibbsParameters`).
    midpoint : float
        ``nu`` in [0, 1]: the midpoint term is ``kappa = nu * dw / (8 T)``
        (``T`` the post temperature; 0 drops it).
    mask : numpy.ndarray, optional
        Bool ``(n_post, n_pre)``: which synapses exist (default all).
    name : str, optional
        Base name (default ``"{pre}->{post}"``).
    pre_timing : str
        The program's ``pre_timing`` (default ``'arrival'``: the evidence
        pairs each post sample with the pre spikes that drove it; see
        :func:`gibbs_synapse`).

    Returns
    -------
    tuple of str
        The contact projections' names, then the static projection's.
    """
    n_pre, _ = _population(builder, pre)
    n_post, model = _population(builder, post)
    base = name or f"{pre}->{post}"
    if not isinstance(model, StochasticBinary):
        raise ModelError(f"gibbs_projections '{base}': post population '{post}' must be StochasticBinary (its firing probability is y1), got {type(model).__name__}")
    if not isinstance(K, Integral) or isinstance(K, bool) or K < 1:
        raise ModelError(f"gibbs_projections '{base}': K must be an integer >= 1, got {K!r}")
    g = _real(g, "g", f"gibbs_projections '{base}'")
    if g <= 0:
        raise ModelError(f"gibbs_projections '{base}': g must be > 0, got {g!r}")
    step = 2.0 * g / K
    kappa = _midpoint(midpoint, f"gibbs_projections '{base}'") * step / (8.0 * model.temperature)
    params = _params(a, m, k, rho, kappa)
    program = params.program(weight_unit=step, pre_timing=pre_timing)
    if mask is None:
        mask = np.ones((n_post, n_pre), dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != (n_post, n_pre) or mask.dtype != bool:
        raise ModelError(f"gibbs_projections '{base}': mask must be a bool array of shape ({n_post}, {n_pre}), got {mask.dtype} {mask.shape}")
    post_idx, pre_idx = np.nonzero(mask)
    rng = np.random.default_rng(seed)
    contacts = rng.random((K, pre_idx.size)) < rho
    names = []
    for kk in range(K):
        stored = contacts[kk].astype(np.float64) - (1.0 if params.stores_complement else 0.0)
        names.append(builder.connect_sparse(pre, post, pre_idx, post_idx, stored * step, plasticity=program, name=f"{base}.c{kk}"))
    static = g if params.stores_complement else -g
    names.append(builder.connect_sparse(pre, post, pre_idx, post_idx, np.full(pre_idx.size, static), name=f"{base}.base"))
    return tuple(names)

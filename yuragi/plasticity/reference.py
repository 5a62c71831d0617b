"""Float reference of the Gibbs synapse (research/dsnn.md section 2), as small numpy simulators.

Two rules are simulated, both in float:

* the **exact** rule of dsnn.md section 2: the per-step evidence is the exact
  log-likelihood ratio of the postsynaptic spike under the two candidate
  weights (logistic neurons, :func:`exact_evidence`), ``L <- gamma*L + l``
  with ``gamma = 1 - 1/tau_s``, and each contact is resampled with
  probability ``p_s`` per step from ``P(c=1) = sigmoid(logit(rho) + beta*L)``;
* the **small-Delta** rule (the form Loihi's learning engine can compute):
  ``l = s_pre * (s_post - p_post)`` (:func:`small_delta_evidence`) and
  ``P(c=1) = sigmoid(logit(rho) + gain*L)`` with ``gain = beta * dw /
  temperature``, ``dw = 2 g / K`` the contact's weight step; with
  ``conditional='hard'`` the sigmoid is replaced by the hard sigmoid
  ``clip(rho + gain*L/4, 0, 1)`` the integer program realises
  (:mod:`yuragi.plasticity.gibbs`).

:func:`single_synapse` runs independent synapses on a given evidence
sequence (statistics fixed from outside); :func:`teacher_student` runs the
teacher-student test of dsnn.md section 5 (N Bernoulli inputs, one stochastic
output neuron clamped to a teacher with binary weights +-g).

Everything takes a seed (numpy ``default_rng``); same seed, same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

__all__ = [
    "GibbsRule",
    "SingleSynapseRun",
    "TeacherStudentRun",
    "activation",
    "exact_evidence",
    "hard_sigmoid",
    "logit",
    "sigmoid",
    "single_synapse",
    "small_delta_evidence",
    "teacher_student",
]

CONDITIONALS = ("sigmoid", "hard")
ACTIVATIONS = ("logistic", "linear")
EVIDENCE = ("exact", "small_delta", "midpoint", "hardware")


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``, overflow-free."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


def logit(p: float) -> float:
    """``log(p / (1 - p))`` for p in (0, 1)."""
    return float(np.log(p) - np.log1p(-p))


def hard_sigmoid(x: np.ndarray | float, rho: float = 0.5) -> np.ndarray:
    """``clip(rho + x/4, 0, 1)``: the piecewise-linear conditional with the sigmoid's slope at 0."""
    return np.clip(rho + np.asarray(x, dtype=np.float64) / 4.0, 0.0, 1.0)


def activation(h: np.ndarray, kind: str = "logistic", temperature: float = 1.0) -> np.ndarray:
    """Firing probability of a stochastic neuron with input ``h``.

    ``'logistic'``: ``sigmoid(h / T)`` (the IR's StochasticBinary);
    ``'linear'``: ``clip(1/2 + h / (4 T), 0, 1)``, the piecewise-linear
    activation of the fixed-point neuron (:mod:`yuragi.fixedpoint.stochastic`).
    """
    h = np.asarray(h, dtype=np.float64)
    if kind == "logistic":
        return sigmoid(h / temperature)
    if kind == "linear":
        return np.clip(0.5 + h / (4.0 * temperature), 0.0, 1.0)
    raise ModelError(f"activation: kind must be one of {', '.join(ACTIVATIONS)}, got {kind!r}")


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def exact_evidence(pre: np.ndarray, post: np.ndarray, u_plus: np.ndarray, u_minus: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Exact log-likelihood ratio ``l`` of dsnn.md section 2 (logistic neuron at temperature T).

    ``l = s_pre * [s_post * log(sig(u+)/sig(u-)) + (1 - s_post) * log((1 - sig(u+))/(1 - sig(u-)))]``
    with ``sig(u) = sigmoid(u / T)`` and ``u+``, ``u-`` the post potential
    with the contact set to 1 and to 0. Arrays broadcast.
    """
    a, b = np.asarray(u_plus, dtype=np.float64) / temperature, np.asarray(u_minus, dtype=np.float64) / temperature
    on = _log_sigmoid(a) - _log_sigmoid(b)
    off = _log_sigmoid(-a) - _log_sigmoid(-b)
    post = np.asarray(post, dtype=np.float64)
    return np.asarray(pre, dtype=np.float64) * (post * on + (1.0 - post) * off)


def small_delta_evidence(pre: np.ndarray, post: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Small-Delta evidence ``s_pre * (s_post - p_post)`` (pre times actual-minus-expected post)."""
    return np.asarray(pre, dtype=np.float64) * (np.asarray(post, dtype=np.float64) - np.asarray(prob, dtype=np.float64))


@dataclass(frozen=True)
class GibbsRule:
    """Hyperparameters of a float Gibbs synapse.

    Parameters
    ----------
    tau_s : float
        Evidence time constant, steps (``gamma = 1 - 1/tau_s``), > 1.
    p_s : float
        Resampling probability per contact per step, in (0, 1].
    gain : float
        Multiplies ``L`` in the conditional: ``beta`` for exact evidence,
        ``beta * dw / T`` for small-Delta evidence.
    rho : float
        Prior ``P(c = 1)``, in (0, 1).
    conditional : str
        ``'sigmoid'`` (exact) or ``'hard'`` (``clip(rho + gain*L/4, 0, 1)``).
    """

    tau_s: float
    p_s: float
    gain: float
    rho: float = 0.5
    conditional: str = "sigmoid"

    def __post_init__(self) -> None:
        if not self.tau_s > 1:
            raise ModelError(f"GibbsRule: tau_s must be > 1 step, got {self.tau_s!r}")
        if not 0 < self.p_s <= 1:
            raise ModelError(f"GibbsRule: p_s must be in (0, 1], got {self.p_s!r}")
        if not 0 < self.rho < 1:
            raise ModelError(f"GibbsRule: rho must be in (0, 1), got {self.rho!r}")
        if not np.isfinite(self.gain):
            raise ModelError(f"GibbsRule: gain must be finite, got {self.gain!r}")
        if self.conditional not in CONDITIONALS:
            raise ModelError(f"GibbsRule: conditional must be one of {', '.join(CONDITIONALS)}, got {self.conditional!r}")

    @property
    def gamma(self) -> float:
        """Per-step evidence retention ``1 - 1/tau_s``."""
        return 1.0 - 1.0 / self.tau_s

    def p_one(self, evidence: np.ndarray) -> np.ndarray:
        """``P(c = 1 | L)`` under this rule's conditional."""
        if self.conditional == "sigmoid":
            return sigmoid(logit(self.rho) + self.gain * np.asarray(evidence, dtype=np.float64))
        return hard_sigmoid(self.gain * np.asarray(evidence, dtype=np.float64), self.rho)


@dataclass(frozen=True)
class SingleSynapseRun:
    """Result of :func:`single_synapse` (arrays ``(steps, n)``).

    ``evidence_at_resample[r]`` is ``L`` after step ``r``'s evidence, the value the
    resampling at step ``r`` used; ``resampled[r]`` flags the contacts that were
    resampled at step ``r``; ``c[r]`` the contact after step ``r``.
    """

    evidence_at_resample: np.ndarray
    resampled: np.ndarray
    c: np.ndarray


def single_synapse(evidence: np.ndarray, rule: GibbsRule, seed: int, c0: np.ndarray | None = None) -> SingleSynapseRun:
    """Independent Gibbs contacts driven by a given evidence sequence ``evidence`` ``(steps, n)``.

    Per step: ``L <- gamma*L + evidence[r]``; then each contact is resampled
    with probability ``p_s`` from ``rule.p_one(L)``. The contacts do not act
    back on the evidence (fixed pre/post statistics).
    """
    ev = np.asarray(evidence, dtype=np.float64)
    if ev.ndim != 2:
        raise ModelError(f"single_synapse: evidence must have shape (steps, n), got {ev.shape}")
    steps, n = ev.shape
    rng = np.random.default_rng(seed)
    c = np.zeros(n, dtype=bool) if c0 is None else np.asarray(c0, dtype=bool).copy()
    L = np.zeros(n)
    out_L = np.empty((steps, n))
    out_r = np.empty((steps, n), dtype=bool)
    out_c = np.empty((steps, n), dtype=bool)
    for r in range(steps):
        L = rule.gamma * L + ev[r]
        mask = rng.random(n) < rule.p_s
        draw = rng.random(n) < rule.p_one(L)
        c = np.where(mask, draw, c)
        out_L[r], out_r[r], out_c[r] = L, mask, c
    return SingleSynapseRun(out_L, out_r, out_c)


@dataclass(frozen=True)
class TeacherStudentRun:
    """Result of :func:`teacher_student`.

    ``steps[i]`` is the step after which ``overlap[i, r]`` (fraction of
    replica ``r``'s inputs whose student weight has the teacher's sign) and
    ``flips[i, r]`` (contact changes since the previous record) were taken;
    ``teacher`` holds the teacher weights (+-g) ``(replicas, n_inputs)``,
    ``c`` the final contacts ``(replicas, n_inputs, K)``.
    """

    steps: np.ndarray
    overlap: np.ndarray
    flips: np.ndarray
    teacher: np.ndarray
    c: np.ndarray

    def final_overlap(self, last: int = 5) -> np.ndarray:
        """Mean overlap of each replica over the last ``last`` records."""
        return self.overlap[-last:].mean(axis=0)


def teacher_student(
    n_inputs: int = 100,
    steps: int = 20000,
    *,
    g: float | None = None,
    K: int = 1,
    tau_s: float = 2000.0,
    p_s: float = 0.05,
    beta: float = 1.0,
    rho: float = 0.5,
    evidence: str = "exact",
    conditional: str = "sigmoid",
    neuron: str = "logistic",
    temperature: float = 1.0,
    input_rate: float = 0.5,
    seed: int = 0,
    record_every: int = 500,
    evidence_limit: float | None = None,
    period: int | None = None,
    replicas: int = 1,
    midpoint: float = 0.75,
) -> TeacherStudentRun:
    """Teacher-student test of dsnn.md section 5 with one stochastic output neuron.

    Inputs ``s_j ~ Bernoulli(input_rate)``; teacher weights ``w*_j = +-g``
    (default ``g = 3/sqrt(n_inputs)``, signs from the seed); the output
    spike is the teacher's sample ``s ~ Bernoulli(f(sum_j w*_j s_j))``
    (clamped output); the student has ``w_j = g * sum_k (2 c_jk - 1) / K``
    (contacts ``c ~ Bernoulli(rho)`` at the start) and its own probability
    ``p = f(sum_j w_j s_j)``, ``f`` the ``neuron`` activation at
    ``temperature``. Each contact accumulates evidence ``L <- gamma L + l``
    and is resampled with probability ``p_s`` per step (or, with
    ``period``, all contacts every ``period`` steps, as the integer program
    does). The evidence ``l`` is

    * ``'exact'``: :func:`exact_evidence`, ``u+/-`` the student's potential
      with the contact set to 1/0; conditional gain ``beta``;
    * ``'small_delta'``: ``s_j (s - p)`` (dsnn.md's small-Delta limit);
    * ``'midpoint'``: ``s_j (s - f(u_mid))``, ``u_mid`` the potential with
      the contact at the midpoint of its two weights;
    * ``'hardware'``: ``s_j (s - p) + kappa s_j (2 c - 1)`` with ``kappa =
      midpoint * dw / (8 T)``, the integer program's linearised midpoint
      term (``midpoint``: fraction of time in the neuron's linear range);

    the last three with gain ``beta * dw / T``, ``dw = 2 g / K``.
    ``evidence_limit`` clips ``L`` to ``[-limit, limit]`` (the tag's
    saturation). ``replicas`` independent teacher-student pairs run side by
    side (``overlap`` then has one column per replica).

    Returns
    -------
    TeacherStudentRun
    """
    if evidence not in EVIDENCE:
        raise ModelError(f"teacher_student: evidence must be one of {', '.join(EVIDENCE)}, got {evidence!r}")
    if evidence == "exact" and neuron != "logistic":
        raise ModelError("teacher_student: exact evidence is defined for the logistic neuron only")
    g = 3.0 / np.sqrt(n_inputs) if g is None else float(g)
    step_w = 2.0 * g / K
    gain = beta if evidence == "exact" else beta * step_w / temperature
    kappa = midpoint * step_w / (8.0 * temperature)
    rule = GibbsRule(tau_s, p_s if period is None else 1.0 / period, gain, rho, conditional)
    rng = np.random.default_rng(seed)
    R, N = replicas, n_inputs
    teacher = np.where(rng.random((R, N)) < 0.5, g, -g)
    c = rng.random((R, N, K)) < rho
    L = np.zeros((R, N, K))
    rec_steps, overlaps, flips = [], [], []
    n_flips = np.zeros(R, dtype=np.int64)
    for r in range(steps):
        s = rng.random((R, N)) < input_rate
        s_out = rng.random(R) < activation((teacher * s).sum(axis=1), neuron, temperature)
        w = g * (2.0 * c - 1.0).sum(axis=2) / K
        u = (w * s).sum(axis=1)
        s3 = s[:, :, None]
        if evidence == "exact":
            u_minus = u[:, None, None] - step_w * c * s3  # this contact set to 0
            ell = exact_evidence(s3, s_out[:, None, None], u_minus + step_w * s3, u_minus, temperature)
        elif evidence == "midpoint":
            u_mid = u[:, None, None] - step_w * (c - 0.5) * s3
            ell = small_delta_evidence(s3, s_out[:, None, None], activation(u_mid, neuron, temperature))
        else:
            ell = small_delta_evidence(s3, s_out[:, None, None], activation(u, neuron, temperature)[:, None, None])
            if evidence == "hardware":
                ell = ell + kappa * s3 * (2.0 * c - 1.0)
        L = rule.gamma * L + ell
        if evidence_limit is not None:
            L = np.clip(L, -evidence_limit, evidence_limit)
        if period is None:
            mask = rng.random(L.shape) < rule.p_s
        else:
            mask = np.full(L.shape, (r + 1) % period == 0)
        new = np.where(mask, rng.random(L.shape) < rule.p_one(L), c)
        n_flips += (new != c).sum(axis=(1, 2))
        c = new
        if (r + 1) % record_every == 0:
            w = g * (2.0 * c - 1.0).sum(axis=2) / K
            rec_steps.append(r + 1)
            overlaps.append(np.mean(np.sign(w) == np.sign(teacher), axis=1))
            flips.append(n_flips.copy())
            n_flips[:] = 0
    return TeacherStudentRun(np.array(rec_steps), np.array(overlaps), np.array(flips), teacher, c)

"""The dual sampling neural network (DSNN) in floating point: the reference model.

A reconstruction of Teramae & Tsubo (2022) from research/dsnn.md (the paper's
text was not available; see docs/models/dsnn.md). Neurons *and* synapses are
binary random variables:

* **Neurons.** Input pixels ``x_j`` spike with probability = intensity each
  step; hidden units ``h_i`` and label units ``y_k`` (``10 x label_copies``)
  are stochastic binary with ``P(s = 1) = f(u)``, ``u = sum_j w_ij s_j``
  (a bias is a synapse from an always-on unit, the last column of every
  weight matrix). ``f`` is the logistic ``sigmoid(u)`` or the fixed-point
  neuron's piecewise-linear ``clip(1/2 + u/N, 0, 1)``.
* **Synapses.** Synapse ``(i <- j)`` is ``K`` binary contacts ``c_k``;
  ``w_ij = g sum_k (2 c_k - 1) / K`` with ``g = gain / sqrt(fan_in)``; one
  contact's step is ``dw = 2 g / K``.
* **Learning = Gibbs sampling of contacts** (research/dsnn.md section 2).
  Each contact keeps an evidence trace (log-likelihood ratio of ``c = 1``
  against ``c = 0``)::

      L <- gamma L + l_t,   gamma = 1 - 1/tau_s   (per presentation step)
      P(c = 1 | rest) = q(logit(rho) + beta L)     resampled w.p. p_s

  with, for post neuron ``i`` in state ``s_i`` at potential ``u_i`` and
  presynaptic state ``s_j`` (``u+ / u-``: ``u_i`` with this contact set to
  1 / 0):

  - ``evidence='exact'``:    ``l = s_j [log P(s_i | u+) - log P(s_i | u-)]``
  - ``evidence='midpoint'``: ``l = dw s_j (s_i - f((u+ + u-)/2))`` (second-order
    accurate; its linearisation ``dw s_j (s_i - p_i) + dw^2 f' s_j (c - 1/2)``
    is the hardware rule with the ``x0*w`` midpoint term, see
    :mod:`yuragi.plasticity.gibbs`)
  - ``evidence='linear_midpoint'``: ``l = dw s_j (s_i - p_i) + nu dw^2 f'(0) s_j (2c - 1) / 2``,
    the hardware rule of :mod:`yuragi.plasticity.gibbs` (``midpoint_nu = nu``:
    the midpoint term with the activation's slope at 0, scaled by the
    fraction of time the neuron is assumed to be in its linear range)
  - ``evidence='delta'``:    ``l = dw s_j (s_i - p_i)`` (small-Delta; it
    carries no evidence for a weight that is already right, so memories decay)

  and ``q`` the ``'sigmoid'`` or the ``'hard'`` sigmoid ``clip(1/2 + z/4, 0, 1)``.
  Resampling is asynchronous (each contact w.p. ``p_resample`` every step)
  or synchronous (``resample_period = 2**k``: every ``2**k`` steps, each
  contact w.p. ``p_resample``).
* **Training** clamps ``x`` and ``y`` (one-hot label, ``label_copies``
  copies). Hidden units are sampled from their conditional given ``x`` and
  ``y``: feed-forward drive plus a top-down term, ``topdown='exact'``
  (the log-likelihood ratio of the clamped labels with ``h_i`` = 1 vs 0),
  ``'linear'`` (``sum_k U_ki (y_k - f(u_k))``), ``'feedback'`` (a fixed
  random +-``feedback_gain`` projection from the clamped labels: only spikes
  travel) or ``'none'``. The hidden evidence always uses the feed-forward
  potential (the generative model ``P(h | x)``) with the posterior sample.
* **Inference** clamps ``x``; ``h`` and ``y`` run freely for ``infer_steps``
  steps (layer by layer: ``h`` from this step's ``x``, ``y`` from this
  step's ``h``, i.e. ancestral sampling, exact for this directed network);
  the prediction is the argmax of the label spike counts summed over copies.

Batch mode: ``batch`` presentations run side by side on the same synapses;
their evidence is summed, the trace decays by ``gamma**batch`` and a contact
is resampled with the probability of at least one resampling event in the
``batch`` steps. ``batch=1`` is the online network.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np

from ...errors import FileFormatError, ModelError

__all__ = [
    "ACTIVATIONS",
    "EVIDENCE_RULES",
    "RESAMPLE_PROBS",
    "TOPDOWN_MODES",
    "DSNN",
    "DSNNConfig",
    "GibbsLayer",
    "activation",
    "log_likelihood_ratio",
    "stochastic_counts",
    "stochastic_hidden_rates",
]

ACTIVATIONS = ("logistic", "pwl")
EVIDENCE_RULES = ("exact", "midpoint", "linear_midpoint", "delta")
RESAMPLE_PROBS = ("sigmoid", "hard")
TOPDOWN_MODES = ("exact", "linear", "feedback", "none")
FREE_MODES = ("free", "hold")
#: Probabilities of the piecewise-linear neuron are floored at this value (and capped at 1 - it) inside logs.
PWL_PROB_FLOOR = 2.0**-8


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DSNNConfig:
    """Hyperparameters of the DSNN (all dimensionless; time in network steps).

    Parameters
    ----------
    n_hidden : int
        Hidden units.
    label_copies : int
        Label units per class (population code ``m``); the label layer has ``n_classes * m`` units.
    contacts : int
        Binary contacts per synapse ``K`` (``K + 1`` weight levels).
    gain_hidden, gain_label : float
        Weight magnitude ``g = gain / sqrt(fan_in)`` of input->hidden (fan-in
        ``n_pixels + 1``) and hidden->label (fan-in ``n_hidden + 1``) synapses.
    tau_s : float
        Evidence trace time constant, steps (``gamma = 1 - 1/tau_s``); ``math.inf`` keeps all evidence.
    beta : float
        Inverse temperature of the contact conditional.
    beta_hidden : float or None
        Inverse temperature of the input->hidden contacts (None: ``beta``).
    rho : float
        Prior ``P(c = 1)``, in (0, 1).
    p_resample : float
        Probability that a contact is resampled at a resampling event, in (0, 1].
    resample_period : int
        Steps between resampling events: 1 = asynchronous (every step),
        ``2**k`` = synchronous (the learning-epoch form of the hardware).
    activation : str
        ``'logistic'`` or ``'pwl'`` (``clip(1/2 + u / noise_width, 0, 1)``, the fixed-point neuron).
    noise_width : float
        ``N`` of the piecewise-linear activation (``4`` matches the logistic's slope at 0).
    evidence : str
        ``'exact'``, ``'midpoint'``, ``'linear_midpoint'`` or ``'delta'`` (module docstring).
    midpoint_nu : float
        ``nu`` in [0, 1] of ``evidence='linear_midpoint'``.
    saturate : bool
        Clip the evidence so that ``|beta L| <= 2``, where the hard sigmoid
        saturates: the range of the Gibbs program's 9-bit tag
        (``gain L = +-2``, docs/plasticity.md). Without it the float evidence is unbounded.
    resample_prob : str
        ``'sigmoid'`` or ``'hard'`` (``clip(1/2 + z/4, 0, 1)``).
    topdown : str
        How clamped labels reach the hidden units in training: ``'exact'``,
        ``'linear'``, ``'feedback'`` or ``'none'``.
    feedback_gain : float
        Magnitude of the fixed random label->hidden weights of ``topdown='feedback'``.
    hidden_update_prob : float
        Probability in (0, 1] that a hidden unit is resampled in a training step
        (1 = all in parallel; < 1 approaches sequential Gibbs sampling).
    sweeps : int
        Steps per training presentation (each a fresh input sample, a hidden
        update, evidence and resampling).
    batch : int
        Presentations simulated side by side on shared synapses.
    plastic_hidden, plastic_label : bool
        Whether the input->hidden / hidden->label contacts are resampled.
    infer_steps : int
        Steps of free inference per test image.
    """

    n_hidden: int = 300
    label_copies: int = 1
    contacts: int = 1
    gain_hidden: float = 3.0
    gain_label: float = 3.0
    tau_s: float = 8000.0
    beta: float = 3.0
    beta_hidden: float | None = None
    rho: float = 0.5
    p_resample: float = 0.05
    resample_period: int = 1
    activation: str = "logistic"
    noise_width: float = 4.0
    evidence: str = "exact"
    midpoint_nu: float = 0.75
    saturate: bool = False
    resample_prob: str = "sigmoid"
    topdown: str = "exact"
    feedback_gain: float = 1.0
    hidden_update_prob: float = 1.0
    sweeps: int = 2
    batch: int = 32
    plastic_hidden: bool = True
    plastic_label: bool = True
    infer_steps: int = 100

    def problems(self) -> list[str]:
        """One line per invalid field (empty when valid)."""
        out: list[str] = []

        def pos_int(name: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                out.append(f"field '{name}' must be an integer >= 1, got {v!r}")

        def pos_real(name: str, allow_inf: bool = False) -> None:
            v = getattr(self, name)
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            if not ok or math.isnan(v) or v <= 0 or (math.isinf(v) and not allow_inf):
                out.append(f"field '{name}' must be a {'' if allow_inf else 'finite '}number > 0, got {v!r}")

        def choice(name: str, allowed: tuple[str, ...]) -> None:
            v = getattr(self, name)
            if v not in allowed:
                out.append(f"field '{name}' must be one of {', '.join(allowed)}, got {v!r}")

        for name in ("n_hidden", "label_copies", "contacts", "resample_period", "sweeps", "batch", "infer_steps"):
            pos_int(name)
        for name in ("gain_hidden", "gain_label", "beta", "noise_width", "feedback_gain"):
            pos_real(name)
        pos_real("tau_s", allow_inf=True)
        if self.beta_hidden is not None:
            pos_real("beta_hidden")
        if not out and self.tau_s < 1:
            out.append(f"field 'tau_s' must be >= 1 step, got {self.tau_s!r}")
        for name, lo_open in (("rho", True), ("p_resample", True), ("hidden_update_prob", True)):
            v = getattr(self, name)
            hi_ok = v < 1 if name == "rho" else v <= 1
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not (v > 0 and hi_ok):
                out.append(f"field '{name}' must be in (0, {'1)' if name == 'rho' else '1]'}, got {v!r}")
        nu = self.midpoint_nu
        if not isinstance(nu, (int, float)) or isinstance(nu, bool) or not 0.0 <= nu <= 1.0:
            out.append(f"field 'midpoint_nu' must be in [0, 1], got {nu!r}")
        choice("activation", ACTIVATIONS)
        choice("evidence", EVIDENCE_RULES)
        choice("resample_prob", RESAMPLE_PROBS)
        choice("topdown", TOPDOWN_MODES)
        for name in ("plastic_hidden", "plastic_label", "saturate"):
            if not isinstance(getattr(self, name), bool):
                out.append(f"field '{name}' must be true or false, got {getattr(self, name)!r}")
        return out

    def validate(self) -> DSNNConfig:
        """Return self, or raise :class:`ModelError` naming the first invalid field."""
        problems = self.problems()
        if problems:
            head = f"DSNN config: {problems[0]}" + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else "")
            raise ModelError(head, tuple(problems))
        return self

    def replace(self, **changes: object) -> DSNNConfig:
        """A copy with ``changes`` (unknown names raise ModelError)."""
        names = {f.name for f in fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise ModelError(f"DSNN config has no field '{bad[0]}' (fields: {', '.join(sorted(names))})")
        return DSNNConfig(**{**asdict(self), **changes}).validate()


# ----------------------------------------------------------------------------- neuron functions
def activation(u: np.ndarray, kind: str = "logistic", noise_width: float = 4.0) -> np.ndarray:
    """Firing probability ``f(u)``: logistic, or piecewise-linear ``clip(1/2 + u/N, 0, 1)``."""
    if kind == "logistic":
        return 0.5 * (1.0 + np.tanh(0.5 * u))
    return np.clip(0.5 + u / noise_width, 0.0, 1.0)


def log_likelihood_ratio(s: np.ndarray, u_plus: np.ndarray, u_minus: np.ndarray, kind: str = "logistic", noise_width: float = 4.0) -> np.ndarray:
    """``log P(s | u_plus) - log P(s | u_minus)`` for a binary unit with activation ``kind``.

    Logistic: ``s (u+ - u-) - softplus(u+) + softplus(u-)`` (exact, no overflow).
    Piecewise-linear: probabilities clipped to ``[PWL_PROB_FLOOR, 1 - PWL_PROB_FLOOR]`` first.
    """
    if kind == "logistic":
        return s * (u_plus - u_minus) - (np.logaddexp(0.0, u_plus) - np.logaddexp(0.0, u_minus))
    pa = np.clip(0.5 + u_plus / noise_width, PWL_PROB_FLOOR, 1.0 - PWL_PROB_FLOOR)
    pb = np.clip(0.5 + u_minus / noise_width, PWL_PROB_FLOOR, 1.0 - PWL_PROB_FLOOR)
    return s * (np.log(pa) - np.log(pb)) + (1.0 - s) * (np.log1p(-pa) - np.log1p(-pb))


def _with_bias(s: np.ndarray) -> np.ndarray:
    """Append the always-on unit (a column of ones)."""
    return np.concatenate([s, np.ones((s.shape[0], 1))], axis=1)


def _bernoulli(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    return (rng.random(p.shape) < p).astype(np.float64)


# ----------------------------------------------------------------------------- one plastic projection
@dataclass
class GibbsLayer:
    """Contacts and evidence traces of one all-to-all projection (last presynaptic column: the bias unit).

    Attributes
    ----------
    c : numpy.ndarray
        Contacts, bool ``(K, n_post, n_pre + 1)``.
    L : numpy.ndarray
        Evidence per contact (log-likelihood-ratio units), float64, the shape of ``c``.
    g : float
        Weight magnitude.
    """

    c: np.ndarray
    L: np.ndarray
    g: float

    @property
    def K(self) -> int:
        """Contacts per synapse."""
        return int(self.c.shape[0])

    @property
    def dw(self) -> float:
        """One contact's weight step ``2 g / K``."""
        return 2.0 * self.g / self.K

    @property
    def weights(self) -> np.ndarray:
        """Synaptic weights ``g sum_k (2 c_k - 1) / K``, ``(n_post, n_pre + 1)``."""
        return self.g * (2.0 * self.c.sum(axis=0) - self.K) / self.K

    def evidence(self, pre: np.ndarray, post: np.ndarray, u: np.ndarray, cfg: DSNNConfig) -> np.ndarray:
        """Evidence of one step summed over the batch, per contact ``(K, n_post, n_pre + 1)``.

        ``pre`` (with the bias column) and ``post`` are binary ``(b, n)``,
        ``u`` the post potentials ``(b, n_post)`` with the current weights.
        Because ``pre`` is binary, the evidence of a contact depends on its
        state and on ``(post, u)`` only: ``A`` for contacts that are on
        (candidates ``u, u - dw``), ``C`` for contacts that are off (``u + dw, u``).
        """
        d, kind, n = self.dw, cfg.activation, cfg.noise_width
        if cfg.evidence == "exact":
            a = log_likelihood_ratio(post, u, u - d, kind, n)
            c = log_likelihood_ratio(post, u + d, u, kind, n)
        elif cfg.evidence == "midpoint":
            a = d * (post - activation(u - 0.5 * d, kind, n))
            c = d * (post - activation(u + 0.5 * d, kind, n))
        else:
            a = d * (post - activation(u, kind, n))
            ev = (a.T @ pre)[None]
            if cfg.evidence == "delta":
                return np.broadcast_to(ev, self.c.shape)
            slope = 0.25 if kind == "logistic" else 1.0 / n
            term = cfg.midpoint_nu * d * d * slope / 2.0 * pre.sum(axis=0)  # per presynaptic spike, times (2c - 1)
            return ev + np.where(self.c, term, -term)
        return np.where(self.c, (a.T @ pre)[None], (c.T @ pre)[None])

    def resample(self, rng: np.random.Generator, prob: float, cfg: DSNNConfig, beta: float) -> None:
        """Resample each contact with probability ``prob`` from ``q(logit(rho) + beta L)`` (in place)."""
        if prob <= 0.0:
            return
        z = math.log(cfg.rho / (1.0 - cfg.rho)) + beta * self.L
        p1 = activation(z) if cfg.resample_prob == "sigmoid" else np.clip(0.5 + 0.25 * z, 0.0, 1.0)
        pick = rng.random(self.c.shape) < prob
        self.c[pick] = (rng.random(self.c.shape) < p1)[pick]


def _new_layer(rng: np.random.Generator, K: int, n_post: int, n_pre: int, gain: float, rho: float) -> GibbsLayer:
    c = rng.random((K, n_post, n_pre + 1)) < rho
    return GibbsLayer(c=c, L=np.zeros(c.shape), g=gain / math.sqrt(n_pre + 1))


# ----------------------------------------------------------------------------- free stochastic network (any weights)
def stochastic_counts(
    w_hidden: np.ndarray, w_label: np.ndarray, x: np.ndarray, steps: int, rng: np.random.Generator,
    kind: str = "logistic", noise_width: float = 4.0, chunk: int = 2048,
) -> np.ndarray:
    """Label spike counts of the free network ``x -> h -> y`` over ``steps`` steps per image.

    Parameters
    ----------
    w_hidden : numpy.ndarray
        ``(n_hidden, n_pixels + 1)`` weights (last column: bias).
    w_label : numpy.ndarray
        ``(n_labels, n_hidden + 1)`` weights.
    x : numpy.ndarray
        ``(n, n_pixels)`` spike probabilities.

    Returns
    -------
    numpy.ndarray
        ``(n, n_labels)`` spike counts.
    """
    out = np.zeros((x.shape[0], w_label.shape[0]))
    for s0 in range(0, x.shape[0], chunk):
        xp = x[s0:s0 + chunk]
        for _ in range(steps):
            h = _bernoulli(rng, activation(_with_bias(_bernoulli(rng, xp)) @ w_hidden.T, kind, noise_width))
            out[s0:s0 + chunk] += _bernoulli(rng, activation(_with_bias(h) @ w_label.T, kind, noise_width))
    return out


def stochastic_hidden_rates(
    w_hidden: np.ndarray, x: np.ndarray, steps: int, rng: np.random.Generator,
    kind: str = "logistic", noise_width: float = 4.0, chunk: int = 2048,
) -> np.ndarray:
    """Time-averaged hidden spikes ``(n, n_hidden)`` over ``steps`` steps with input ``x`` clamped."""
    out = np.zeros((x.shape[0], w_hidden.shape[0]))
    for s0 in range(0, x.shape[0], chunk):
        xp = x[s0:s0 + chunk]
        for _ in range(steps):
            out[s0:s0 + chunk] += _bernoulli(rng, activation(_with_bias(_bernoulli(rng, xp)) @ w_hidden.T, kind, noise_width))
    return out / steps


def class_scores(counts: np.ndarray, n_classes: int) -> np.ndarray:
    """Sum label counts over the copies of each class: ``(n, n_classes * m) -> (n, n_classes)``."""
    return counts.reshape(counts.shape[0], n_classes, -1).sum(axis=2)


def argmax_random_ties(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Argmax per row; ties broken uniformly at random."""
    return np.argmax(scores + 0.5 * rng.random(scores.shape) * (scores == scores.max(axis=1, keepdims=True)), axis=1)


# ----------------------------------------------------------------------------- the network
class DSNN:
    """A float DSNN: input -> hidden -> label, Gibbs-sampled binary contacts.

    Parameters
    ----------
    config : DSNNConfig
    n_pixels : int
        Input units.
    n_classes : int
        Classes (the label layer has ``n_classes * config.label_copies`` units).
    seed : int
        Seed of the initial contacts and of every draw of training
        (numpy ``default_rng``); same seed and calls -> same network.

    Attributes
    ----------
    hidden, label : GibbsLayer
        Input->hidden and hidden->label contacts and traces.
    feedback : numpy.ndarray or None
        Fixed ``(n_hidden, n_labels)`` label->hidden weights of ``topdown='feedback'``.
    steps : int
        Evidence samples so far (presentation steps summed over the batch).
    presentations : int
        Training (and free-run) presentations so far.
    """

    def __init__(self, config: DSNNConfig, n_pixels: int, n_classes: int = 10, seed: int = 0) -> None:
        self.config = config.validate()
        for name, v in (("n_pixels", n_pixels), ("n_classes", n_classes)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (1 if name == "n_pixels" else 2):
                raise ModelError(f"DSNN: {name} must be an integer >= {1 if name == 'n_pixels' else 2}, got {v!r}")
        self.n_pixels, self.n_classes, self.seed = int(n_pixels), int(n_classes), int(seed)
        init = np.random.default_rng([self.seed, 0])
        cfg = self.config
        self.hidden = _new_layer(init, cfg.contacts, cfg.n_hidden, self.n_pixels, cfg.gain_hidden, cfg.rho)
        self.label = _new_layer(init, cfg.contacts, self.n_labels, cfg.n_hidden, cfg.gain_label, cfg.rho)
        self.feedback = None
        if cfg.topdown == "feedback":
            self.feedback = cfg.feedback_gain * np.where(init.random((cfg.n_hidden, self.n_labels)) < 0.5, -1.0, 1.0)
        self.rng = np.random.default_rng([self.seed, 1])
        self.steps = 0
        self.presentations = 0

    # -- sizes
    @property
    def n_labels(self) -> int:
        """Label units ``n_classes * label_copies``."""
        return self.n_classes * self.config.label_copies

    @property
    def beta_hidden(self) -> float:
        """Inverse temperature of the input->hidden contacts."""
        return self.config.beta if self.config.beta_hidden is None else self.config.beta_hidden

    @property
    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Current ``(w_hidden, w_label)`` weights (last columns: biases)."""
        return self.hidden.weights, self.label.weights

    # -- helpers
    def label_targets(self, labels: np.ndarray) -> np.ndarray:
        """The clamped label units of ``labels``: ``(n, n_labels)`` 0/1, ``label_copies`` units per class."""
        y = np.zeros((labels.shape[0], self.n_labels))
        m = self.config.label_copies
        for r in range(m):
            y[np.arange(labels.shape[0]), labels * m + r] = 1.0
        return y

    def _f(self, u: np.ndarray) -> np.ndarray:
        return activation(u, self.config.activation, self.config.noise_width)

    def _topdown(self, h: np.ndarray, y: np.ndarray, u_y: np.ndarray) -> np.ndarray | float:
        """Top-down log-odds for each hidden unit given clamped labels ``y`` (``(b, n_hidden)``)."""
        cfg = self.config
        nh = cfg.n_hidden
        if cfg.topdown == "none":
            return 0.0
        if cfg.topdown == "feedback":
            return y @ self.feedback.T  # type: ignore[union-attr]
        w_lab = self.label.weights[:, :nh]
        if cfg.topdown == "linear":
            return (y - self._f(u_y)) @ w_lab
        # exact: sum_k log P(y_k | u_k with h_i = 1) - log P(y_k | u_k with h_i = 0); weights take K + 1 levels
        on = self.label.c[:, :, :nh].sum(axis=0)
        K = self.label.K
        td = np.zeros_like(h)
        for n_on in np.unique(on):
            v = self.label.g * (2.0 * n_on - K) / K
            mask = (on == n_on).astype(np.float64)
            if_on = log_likelihood_ratio(y, u_y, u_y - v, cfg.activation, cfg.noise_width) @ mask
            if_off = log_likelihood_ratio(y, u_y + v, u_y, cfg.activation, cfg.noise_width) @ mask
            td += h * if_on + (1.0 - h) * if_off
        return td

    def _resample_prob(self, b: int) -> float:
        """Probability that a contact is resampled at least once in the next ``b`` steps."""
        cfg = self.config
        events = (self.steps + b) // cfg.resample_period - self.steps // cfg.resample_period
        return 1.0 - (1.0 - cfg.p_resample) ** events

    def _learn(self, xb: np.ndarray, h: np.ndarray, u_h: np.ndarray, hb: np.ndarray, y: np.ndarray, u_y: np.ndarray) -> None:
        """Accumulate one step's evidence of ``b`` presentations and resample."""
        cfg, b = self.config, xb.shape[0]
        decay = 1.0 if math.isinf(cfg.tau_s) else (1.0 - 1.0 / cfg.tau_s) ** b
        for layer, plastic, pre, post, u in ((self.hidden, cfg.plastic_hidden, xb, h, u_h), (self.label, cfg.plastic_label, hb, y, u_y)):
            if plastic:
                layer.L *= decay
                layer.L += layer.evidence(pre, post, u, cfg)
                if cfg.saturate:
                    bound = 2.0 / (self.beta_hidden if layer is self.hidden else cfg.beta)
                    np.clip(layer.L, -bound, bound, out=layer.L)
        prob = self._resample_prob(b)
        self.steps += b
        if cfg.plastic_hidden:
            self.hidden.resample(self.rng, prob, cfg, self.beta_hidden)
        if cfg.plastic_label:
            self.label.resample(self.rng, prob, cfg, cfg.beta)

    def _present(self, x: np.ndarray, labels: np.ndarray | None, evidence: bool = True) -> None:
        """Present a batch: ``sweeps`` steps clamped to ``labels`` (None: labels free)."""
        cfg, rng = self.config, self.rng
        b = x.shape[0]
        y_clamp = None if labels is None else self.label_targets(labels)
        h = None
        if y_clamp is not None and cfg.topdown != "none":
            h = _bernoulli(rng, self._f(_with_bias(_bernoulli(rng, x)) @ self.hidden.weights.T))
        for _ in range(cfg.sweeps):
            w_h, w_y = self.hidden.weights, self.label.weights
            xb = _with_bias(_bernoulli(rng, x))
            u_h = xb @ w_h.T
            if y_clamp is None or cfg.topdown == "none":
                h = _bernoulli(rng, self._f(u_h))
            else:
                u_y = _with_bias(h) @ w_y.T
                new = _bernoulli(rng, self._f(u_h + self._topdown(h, y_clamp, u_y)))
                if cfg.hidden_update_prob < 1.0:
                    new = np.where(rng.random(new.shape) < cfg.hidden_update_prob, new, h)
                h = new
            hb = _with_bias(h)
            u_y = hb @ w_y.T
            y = y_clamp if y_clamp is not None else _bernoulli(rng, self._f(u_y))
            if evidence:
                self._learn(xb, h, u_h, hb, y, u_y)
            else:  # traces held: contacts keep resampling from them
                prob = self._resample_prob(b)
                self.steps += b
                if cfg.plastic_hidden:
                    self.hidden.resample(rng, prob, cfg, self.beta_hidden)
                if cfg.plastic_label:
                    self.label.resample(rng, prob, cfg, cfg.beta)
        self.presentations += b

    # -- public API
    def train(
        self, x: np.ndarray, labels: np.ndarray, presentations: int,
        callback: Callable[[DSNN], None] | None = None, every: int | None = None,
    ) -> DSNN:
        """Train on ``presentations`` labelled images drawn in shuffled passes over ``(x, labels)``.

        Parameters
        ----------
        x : numpy.ndarray
            ``(n, n_pixels)`` spike probabilities in [0, 1].
        labels : numpy.ndarray
            ``(n,)`` integer labels in ``[0, n_classes)``.
        presentations : int
            Images to present (epochs = presentations / n).
        callback : callable, optional
            Called as ``callback(self)`` every ``every`` presentations (and at the end).
        every : int, optional
            Presentations between callbacks (rounded up to whole batches).
        """
        x, labels = self._check_data(x, labels)
        self._run(x, labels, presentations, callback, every, evidence=True)
        return self

    def free_run(
        self, x: np.ndarray, presentations: int, mode: str = "free",
        callback: Callable[[DSNN], None] | None = None, every: int | None = None,
    ) -> DSNN:
        """Keep the network running after training, labels free, contacts resampling.

        ``mode='free'``: images ``x`` are presented without labels; the traces
        keep collecting evidence from the network's own activity.
        ``mode='hold'``: traces are held (no new evidence); contacts keep resampling from them.
        """
        if mode not in FREE_MODES:
            raise ModelError(f"DSNN.free_run: mode must be one of {', '.join(FREE_MODES)}, got {mode!r}")
        x, _ = self._check_data(x, None)
        self._run(x, None, presentations, callback, every, evidence=(mode == "free"))
        return self

    def _run(self, x: np.ndarray, labels: np.ndarray | None, presentations: int, callback, every, evidence: bool) -> None:  # noqa: ANN001
        if not isinstance(presentations, (int, np.integer)) or presentations < 0:
            raise ModelError(f"DSNN: presentations must be an integer >= 0, got {presentations!r}")
        b = self.config.batch
        done, since = 0, 0
        order = np.empty(0, dtype=np.int64)
        while done < presentations:
            if order.size < b:
                order = np.concatenate([order, self.rng.permutation(x.shape[0])])
            take = min(b, presentations - done)
            idx, order = order[:take], order[take:]
            self._present(x[idx], None if labels is None else labels[idx], evidence=evidence)
            done += take
            since += take
            if callback is not None and every is not None and since >= every:
                since = 0
                callback(self)
        if callback is not None and (every is None or since > 0):
            callback(self)

    def _check_data(self, x: np.ndarray, labels: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_pixels:
            raise ModelError(f"DSNN: x must have shape (n, {self.n_pixels}), got {x.shape}")
        if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1):
            raise ModelError("DSNN: x must hold spike probabilities in [0, 1]")
        if labels is None:
            return x, None
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu" or (labels.size and (labels.min() < 0 or labels.max() >= self.n_classes)):
            raise ModelError(f"DSNN: labels must be {x.shape[0]} integers in [0, {self.n_classes})")
        return x, labels.astype(np.int64)

    def _eval_rng(self, seed: int | None) -> np.random.Generator:
        return np.random.default_rng([self.seed, 2, self.steps] if seed is None else [self.seed, 3, int(seed)])

    def label_counts(self, x: np.ndarray, steps: int | None = None, seed: int | None = None, resample: bool = False) -> np.ndarray:
        """Label spike counts ``(n, n_labels)`` of free inference over ``steps`` (default ``infer_steps``).

        ``resample=True`` lets the contacts keep resampling from their traces
        during inference (a copy: the network is not changed), which averages
        over weight samples (Bayesian model averaging).
        """
        x, _ = self._check_data(x, None)
        steps = self.config.infer_steps if steps is None else int(steps)
        rng = self._eval_rng(seed)
        cfg = self.config
        if not resample:
            return stochastic_counts(*self.weights, x, steps, rng, cfg.activation, cfg.noise_width)
        hid = GibbsLayer(self.hidden.c.copy(), self.hidden.L, self.hidden.g)
        lab = GibbsLayer(self.label.c.copy(), self.label.L, self.label.g)
        prob = 1.0 - (1.0 - cfg.p_resample) ** (1.0 / cfg.resample_period)
        out = np.zeros((x.shape[0], self.n_labels))
        for _ in range(steps):
            out += stochastic_counts(hid.weights, lab.weights, x, 1, rng, cfg.activation, cfg.noise_width)
            if cfg.plastic_hidden:
                hid.resample(rng, prob, cfg, self.beta_hidden)
            if cfg.plastic_label:
                lab.resample(rng, prob, cfg, cfg.beta)
        return out

    def predict(self, x: np.ndarray, steps: int | None = None, seed: int | None = None, resample: bool = False) -> np.ndarray:
        """Predicted classes: argmax of label spike counts summed over copies (random tie-break)."""
        counts = self.label_counts(x, steps, seed, resample)
        return argmax_random_ties(class_scores(counts, self.n_classes), self._eval_rng(None if seed is None else seed + 1))

    def accuracy(self, x: np.ndarray, labels: np.ndarray, steps: int | None = None, seed: int | None = None, resample: bool = False) -> float:
        """Fraction of ``x`` classified as ``labels``."""
        return float(np.mean(self.predict(x, steps, seed, resample) == np.asarray(labels)))

    def hidden_rates(self, x: np.ndarray, steps: int | None = None, seed: int | None = None) -> np.ndarray:
        """Time-averaged hidden spikes ``(n, n_hidden)`` with ``x`` clamped (current weights)."""
        x, _ = self._check_data(x, None)
        steps = self.config.infer_steps if steps is None else int(steps)
        return stochastic_hidden_rates(self.hidden.weights, x, steps, self._eval_rng(seed), self.config.activation, self.config.noise_width)

    # -- checkpoints
    def save(self, path: str | Path) -> Path:
        """Write the network (config, contacts, traces, counters, RNG state) to ``path`` (.npz)."""
        path = Path(path)
        meta = {"config": asdict(self.config), "n_pixels": self.n_pixels, "n_classes": self.n_classes, "seed": self.seed,
                "steps": self.steps, "presentations": self.presentations, "rng": self.rng.bit_generator.state, "format": "yuragi-dsnn-float-1"}
        arrays = {"hidden_c": self.hidden.c, "hidden_L": self.hidden.L, "label_c": self.label.c, "label_L": self.label.L}
        if self.feedback is not None:
            arrays["feedback"] = self.feedback
        with path.open("wb") as fh:
            np.savez_compressed(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DSNN:
        """Read a network written by :meth:`save`."""
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                if meta.get("format") != "yuragi-dsnn-float-1":
                    raise FileFormatError(f"{path}: not a DSNN checkpoint (format {meta.get('format')!r})")
                net = cls(DSNNConfig(**meta["config"]), meta["n_pixels"], meta["n_classes"], meta["seed"])
                for layer, key in ((net.hidden, "hidden"), (net.label, "label")):
                    c, L = z[f"{key}_c"], z[f"{key}_L"]
                    if c.shape != layer.c.shape or L.shape != layer.L.shape:
                        raise FileFormatError(f"{path}: member '{key}_c' has shape {c.shape}, expected {layer.c.shape}")
                    layer.c, layer.L = c.astype(bool), L.astype(np.float64)
                if "feedback" in z.files:
                    net.feedback = z["feedback"].astype(np.float64)
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise FileFormatError(f"{path}: cannot read DSNN checkpoint: {exc}") from None
        net.steps, net.presentations = int(meta["steps"]), int(meta["presentations"])
        net.rng.bit_generator.state = meta["rng"]
        return net

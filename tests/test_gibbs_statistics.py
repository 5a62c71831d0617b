"""Statistical tests of issue #7: the Gibbs synapse samples its conditional, teacher-student recovery,
the stochastic neuron's f, and stochastic release. Tolerances are stated at each assertion.

Total variation (TV) of a Gibbs synapse: over samples (L, c) taken at its
resampling epochs, with L binned (bins of 1/4 in gain * L, the logit),
``TV = sum_b P(b) |mean(c | b) - mean(pi(L) | b)|`` -- the TV distance
between the measured joint distribution of (bin, c) and ``P(bin) *
pi(c | L)``, pi the target conditional. Given L, successive draws of c are
independent, so the pure-sampling value of TV is about
``noise = sum_b P(b) sqrt(2/pi * pibar_b (1 - pibar_b) / n_b)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from yuragi.fixedpoint import probability7, release_mask, stochastic_binary_spikes
from yuragi.plasticity import GibbsParameters
from yuragi.plasticity.fixedpoint_runs import NOISE_WIDTH, single_synapse_fixedpoint, teacher_student_fixedpoint
from yuragi.plasticity.reference import GibbsRule, single_synapse, small_delta_evidence, teacher_student


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def tv_and_noise(keys: np.ndarray, c: np.ndarray, pi: np.ndarray) -> tuple[float, float]:
    """TV between the measured (key, c) joint and P(key) pi(c | .), and its pure-sampling size."""
    _, inv, cnt = np.unique(keys.ravel(), return_inverse=True, return_counts=True)
    c_bar = np.bincount(inv, c.ravel().astype(float)) / cnt
    pi_bar = np.bincount(inv, pi.ravel()) / cnt
    weight = cnt / cnt.sum()
    tv = float(np.sum(weight * np.abs(c_bar - pi_bar)))
    noise = float(np.sum(weight * np.sqrt(2 / np.pi * pi_bar * (1 - pi_bar) / cnt)))
    return tv, noise


# --- (a) a single Gibbs synapse with fixed pre/post statistics

PARAMS = GibbsParameters(a=5, m=5, k=2, q=64, kappa_t=0.0)  # tau_s = 126 steps, p_s = 1/4, gain 1/4, |L| <= 8
N_SYN, STEPS, H_RANGE = 300, 2000, 1.5
MISMATCH = np.resize(np.array([-0.3, 0.0, 0.2, 0.4]), N_SYN)  # post spikes from h + mismatch: evidence drifts


@pytest.fixture(scope="module")
def fixed_run():
    return single_synapse_fixedpoint(PARAMS, N_SYN, STEPS, seed=5, h_range=H_RANGE, mismatch=MISMATCH, burn_in=int(4 * PARAMS.tau_s))


def test_engine_samples_its_documented_conditional_given_the_tag(fixed_run) -> None:
    """Given its tag t, the engine's contact is Bernoulli(clip(64 + 2 floor((4 - t)/8), 0, 128) / 128)."""
    pi = np.clip(64 + 2 * np.floor_divide(4 - fixed_run.tag, 8), 0, 128) / 128
    tv, noise = tv_and_noise(pi, fixed_run.c, pi)  # one bin per value of the conditional
    assert fixed_run.c.size > 100_000
    assert tv <= 2.5 * noise, (tv, noise)  # pure sampling noise (measured 0.0018 at noise 0.0014, 875k samples)


def test_single_synapse_tv_to_the_exact_conditional(fixed_run) -> None:
    """The integer program vs the exact float conditional sigmoid(gain L), L the float evidence of the same spikes."""
    gain = PARAMS.gain
    L = fixed_run.evidence
    target = sigmoid(gain * L)
    keys = np.floor(gain * L / 0.25)
    tv_fixed, noise = tv_and_noise(keys, fixed_run.c, target)
    # the Loihi-expressible approximation (hard sigmoid, 9-bit tag, 7-bit p, rounding):
    # measured TV 0.014 (875k samples; docs/plasticity.md); tolerance 0.03
    assert tv_fixed <= 0.03, (tv_fixed, noise)
    # stationary P(c = 1): measured 0.560 vs 0.560 exact; tolerance 0.02
    assert abs(fixed_run.c.mean() - target.mean()) <= 0.02

    # the same statistics in float: exact rule and its hard-sigmoid version
    rng = np.random.default_rng(7)
    pre = rng.random((STEPS, N_SYN)) < 0.5
    h = rng.uniform(-H_RANGE, H_RANGE, (STEPS, N_SYN))
    post = rng.random((STEPS, N_SYN)) < np.clip(0.5 + (h + MISMATCH) / 4, 0, 1)
    evidence = small_delta_evidence(pre, post, np.clip(0.5 + h / 4, 0, 1))
    burn = int(4 * PARAMS.tau_s)
    result = {}
    for conditional in ("sigmoid", "hard"):
        run = single_synapse(evidence, GibbsRule(PARAMS.tau_s, PARAMS.p_s, gain, 0.5, conditional), seed=9)
        sel = run.resampled.copy()
        sel[:burn] = False
        L_f = run.evidence_at_resample[sel]
        result[conditional] = tv_and_noise(np.floor(gain * L_f / 0.25), run.c[sel], sigmoid(gain * L_f))
    tv_exact, noise_exact = result["sigmoid"]
    assert tv_exact <= 2.5 * noise_exact, result  # the exact float rule: sampling noise only (measured 0.0015)
    tv_hard, noise_hard = result["hard"]
    assert tv_hard >= 4 * noise_hard, result  # the measurement resolves the hard sigmoid's error (measured 0.032)


def test_complement_form_samples_its_conditional() -> None:
    """rho = 3/4 (q = 96 > 64: weights store c - 1): the engine draws c from clip(96 + 2 floor((4 - t)/8)) / 128."""
    params = GibbsParameters(a=5, m=5, k=2, q=96, kappa_t=0.0)
    run = single_synapse_fixedpoint(params, 200, 1000, seed=11, mismatch=np.resize(np.array([-0.4, 0.0, 0.3]), 200), burn_in=500)
    pi = np.clip(96 + 2 * np.floor_divide(4 - run.tag, 8), 0, 128) / 128
    tv, noise = tv_and_noise(pi, run.c, pi)
    assert tv <= 2.5 * noise, (tv, noise)


# --- (b) teacher-student: one stochastic output neuron, binary synapses

TS_PARAMS = GibbsParameters(a=2, m=7, k=6, q=64, kappa_t=0.21875)  # tau_s = 8160, p_s = 1/64, kappa = 0.75 * 0.6 / 8 rounded


def _hardware_float(steps: int, replicas: int, seed: int):
    """The integer program's rule in float: linear neuron, hard sigmoid, tag saturation, periodic resampling."""
    return teacher_student(
        100, steps, evidence="hardware", conditional="hard", neuron="linear", tau_s=TS_PARAMS.tau_s,
        period=2**TS_PARAMS.k, beta=TS_PARAMS.gain / 0.6, evidence_limit=TS_PARAMS.evidence_limit,
        midpoint=TS_PARAMS.kappa * 8 / 0.6, replicas=replicas, seed=seed, record_every=2000,
    )


def test_teacher_student_hardware_rule_in_float() -> None:
    """Overlap >= 0.95 for every replica (mean of the last 3 records, steps 16k-20k) while contacts keep flipping."""
    run = _hardware_float(20000, replicas=4, seed=3)
    final = run.overlap[-3:].mean(axis=0)
    assert run.overlap[0].mean() < 0.9  # it starts far from the teacher (chance is 0.5)
    assert final.min() >= 0.95, final  # measured 0.99 (16 replicas, docs/plasticity.md)
    assert (run.flips[-3:].sum(axis=0) > 0).all(), run.flips  # still fluctuating after convergence


def test_teacher_student_on_the_integer_engine_learns() -> None:
    """Fast check on yuragi.fixedpoint: one replica, 4000 steps, from ~0.5 to >= 0.8 (the slow test holds 0.95)."""
    run = teacher_student_fixedpoint(TS_PARAMS, 4000, replicas=1, seed=3, record_every=1000)
    assert run.w_range == (0, 1)
    assert run.overlap[-1, 0] >= 0.8, run.overlap[:, 0]


@pytest.mark.slow
def test_teacher_student_on_the_integer_engine_recovers_the_signs() -> None:
    """yuragi.fixedpoint, 4 replicas x 30k steps: every replica's overlap >= 0.95 (mean of steps 24k-30k), contacts flip."""
    run = teacher_student_fixedpoint(TS_PARAMS, 30000, replicas=4, seed=3, record_every=2000)
    final = run.overlap[-3:].mean(axis=0)
    assert run.w_range == (0, 1)
    assert final.min() >= 0.95, final  # measured 0.979 mean, 0.963 worst of 8 replicas
    assert (run.flips[-3:].sum(axis=0) > 0).all(), run.flips


@pytest.mark.slow
def test_teacher_student_exact_float_rule() -> None:
    """dsnn.md section 5: exact rule, tau_s = 2000, p_s = 0.05, beta = 1, g = 3/sqrt(100): overlap >= 0.95."""
    run = teacher_student(100, 20000, evidence="exact", tau_s=2000, p_s=0.05, beta=1.0, replicas=2, seed=1, record_every=2000)
    assert run.overlap[-3:].mean(axis=0).min() >= 0.95


@pytest.mark.slow
def test_first_order_small_delta_rule_loses_its_memory() -> None:
    """dsnn.md's small-Delta rule as written (post probability at the current weight) stays below 0.95: why the midpoint term exists."""
    run = teacher_student(100, 20000, evidence="small_delta", tau_s=2000, p_s=0.05, beta=1.0, replicas=4, seed=1, record_every=2000)
    assert run.overlap[-5:].mean() < 0.95  # measured 0.88


# --- (c) the stochastic neuron's firing probability


def test_stochastic_binary_fires_with_its_documented_f() -> None:
    """P(spike) = clip((x + N//2) / N, 0, 1) (yuragi.fixedpoint.stochastic); each point within 4 sigma of 60k draws."""
    n_half = NOISE_WIDTH // 2
    x = np.array([-n_half - 5000, -n_half, -n_half + 300, -NOISE_WIDTH // 4, -1000, 0, 777, NOISE_WIDTH // 4, n_half - 1, n_half + 10])
    f = np.clip((x + n_half) / NOISE_WIDTH, 0, 1)
    per_row = 2000
    rows = 30
    counts = np.zeros(x.size)
    xs = np.repeat(x, per_row)
    for row in range(rows):
        counts += stochastic_binary_spikes(xs, NOISE_WIDTH, 17, 2, row).reshape(x.size, per_row).sum(axis=1)
    n = per_row * rows
    p_hat = counts / n
    sigma = np.sqrt(f * (1 - f) / n)
    assert np.all(np.abs(p_hat - f) <= 4 * sigma + 1e-12), np.c_[x, f, p_hat]  # f = 0 and 1 are exact
    # the 7-bit probability the learning engine reads is floor(128 f), at most 127
    assert np.array_equal(probability7(x, NOISE_WIDTH), np.minimum(np.floor(128 * f), 127).astype(np.int64))


def test_stochastic_binary_draws_are_independent_across_neurons_and_steps() -> None:
    """At f = 1/2: correlation of neighbouring neurons and of successive steps within 4/sqrt(n) of 0."""
    n = 20000
    a = stochastic_binary_spikes(np.zeros(n, np.int64), NOISE_WIDTH, 3, 0, 10).astype(float)
    b = stochastic_binary_spikes(np.zeros(n, np.int64), NOISE_WIDTH, 3, 0, 11).astype(float)
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) <= 4 / math.sqrt(n)
    assert abs(np.corrcoef(a, b)[0, 1]) <= 4 / math.sqrt(n)


# --- (d) stochastic release


@pytest.mark.parametrize("p", [0.05, 0.35, 0.6, 0.95])
def test_release_probability_gives_transmitted_fraction(p: float) -> None:
    """Fraction of transmitted synapse events = p +- 3 sigma over 200k events; per row and synapse independent."""
    synapses = np.arange(5000)
    masks = np.array([release_mask(p, 21, 3, row, synapses) for row in range(40)])
    n = masks.size
    assert abs(masks.mean() - p) <= 3 * math.sqrt(p * (1 - p) / n)
    # same (seed, projection, row) -> same draws; another row -> other draws
    assert np.array_equal(release_mask(p, 21, 3, 7, synapses), masks[7])
    assert not np.array_equal(masks[7], masks[8])

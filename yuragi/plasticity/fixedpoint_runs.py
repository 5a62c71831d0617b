"""The Gibbs-synapse program on the reference integer engine, in plain loops.

These drivers call :mod:`yuragi.fixedpoint` (``trace_step``,
``apply_rules``, ``stochastic_binary_spikes``, ``probability7``) directly,
without the compiler or a backend, for the statistical tests of
``tests/test_gibbs_statistics.py`` and the numbers in docs/plasticity.md.
Post neurons are StochasticBinary with the compiler's integer scale at
temperature ``T``: input ``h`` is ``x = round(h * 2**16 / T)`` and the noise
width is ``N = 2**18``, so ``P(spike) = clip(1/2 + h / (4 T), 0, 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fixedpoint import apply_rules, epoch_due, init_learning_state, lower_program, probability7, stochastic_binary_spikes, trace_step
from ..fixedpoint.learning import SIGN_EXCITATORY, SIGN_INHIBITORY, decimation_active
from .gibbs import GibbsParameters

__all__ = ["NOISE_WIDTH", "SCALE", "FixedSingleSynapseRun", "FixedTeacherStudentRun", "single_synapse_fixedpoint", "teacher_student_fixedpoint"]

SCALE = 1 << 16
"""Integer units of ``x`` per unit of input ``h`` at T = 1 (compiler: one temperature unit = 2**16)."""
NOISE_WIDTH = 1 << 18
"""``N = 4 T S`` = 2**18 for every temperature."""


def _sign_mode(params: GibbsParameters) -> int:
    return SIGN_INHIBITORY if params.stores_complement else SIGN_EXCITATORY


def _contact(params: GibbsParameters, w: np.ndarray) -> np.ndarray:
    """Contact ``c`` in {0, 1} from the stored weight."""
    return (w + 1 if params.stores_complement else w).astype(bool)


@dataclass(frozen=True)
class FixedSingleSynapseRun:
    """Samples of :func:`single_synapse_fixedpoint`, one row per resampling epoch.

    ``evidence[e]`` is the float evidence ``L`` (per-step retention
    ``1 - 1/tau_s``, exact probabilities ``p``) up to the step before the
    epoch's last step (the tag the dw rule reads); ``tag[e]`` the integer tag
    it read; ``c[e]`` the contact drawn. Shapes ``(epochs, n)``.
    """

    evidence: np.ndarray
    tag: np.ndarray
    c: np.ndarray
    rows: np.ndarray


def single_synapse_fixedpoint(
    params: GibbsParameters,
    n: int,
    steps: int,
    seed: int,
    pre_rate: float = 0.5,
    h_range: float = 1.5,
    mismatch: float = 0.0,
    temperature: float = 1.0,
    burn_in: int = 0,
) -> FixedSingleSynapseRun:
    """``n`` independent Gibbs contacts (pre ``j`` -> post ``j``) with fixed statistics.

    Each step: pre spikes ``~ Bernoulli(pre_rate)``; post ``j`` has input
    ``h ~ Uniform(-h_range, h_range)`` (its probability ``p = f(h)`` is
    ``y1``) but spikes from ``h + mismatch`` (so the evidence drifts when
    ``mismatch != 0``); spikes come from ``stochastic_binary_spikes``. The
    contacts do not act on the post neurons. Samples are taken at the
    resampling epochs after ``burn_in`` steps.
    """
    lp = lower_program(params.program())
    idx = np.arange(n)
    w0 = np.zeros(n, dtype=np.int64) - (1 if params.stores_complement else 0)
    st = init_learning_state(idx, idx, w0, n, n)
    rng = np.random.default_rng(seed)
    gamma = 1.0 - 1.0 / params.tau_s
    sign_mode = _sign_mode(params)
    L = np.zeros(n)
    ev, tags, cs, rows = [], [], [], []
    unit = SCALE / temperature
    for r in range(steps):
        pre = rng.random(n) < pre_rate
        h = rng.uniform(-h_range, h_range, n)
        x = np.round(h * unit).astype(np.int64)
        x_true = np.round((h + mismatch) * unit).astype(np.int64)
        post = stochastic_binary_spikes(x_true, NOISE_WIDTH, seed, 0, r)
        p = np.clip((x + NOISE_WIDTH // 2) / NOISE_WIDTH, 0.0, 1.0)
        c_before = _contact(params, st.w)
        trace_step(lp, st, r, pre, post, seed, 0, post_prob7=probability7(x, NOISE_WIDTH))
        sample = epoch_due(lp, r) and decimation_active(lp, r) and r >= burn_in
        if sample:
            ev.append(L.copy())
            tags.append(st.t.copy())
        apply_rules(lp, st, r, seed, 0, sign_mode)
        L = gamma * L + pre * (post - p) + params.kappa * pre * (2.0 * c_before - 1.0)
        if sample:
            cs.append(_contact(params, st.w))
            rows.append(r)
    return FixedSingleSynapseRun(np.array(ev), np.array(tags), np.array(cs), np.array(rows))


@dataclass(frozen=True)
class FixedTeacherStudentRun:
    """Result of :func:`teacher_student_fixedpoint` (per replica).

    ``overlap[i, r]``: fraction of replica ``r``'s inputs whose student
    weight has the teacher's sign after step ``steps[i]``; ``flips[i, r]``:
    contact changes since the previous record; ``w_range``: the smallest and
    largest stored weight seen.
    """

    steps: np.ndarray
    overlap: np.ndarray
    flips: np.ndarray
    w_range: tuple[int, int]


def teacher_student_fixedpoint(
    params: GibbsParameters,
    steps: int,
    n_inputs: int = 100,
    replicas: int = 4,
    g: float | None = None,
    temperature: float = 1.0,
    input_rate: float = 0.5,
    seed: int = 0,
    record_every: int = 1000,
    hold: int = 1,
    delay: int = 0,
) -> FixedTeacherStudentRun:
    """Teacher-student test of dsnn.md section 5 on the integer engine, ``replicas`` independent copies.

    ``n_inputs`` Bernoulli(``input_rate``) inputs (a new pattern every
    ``hold`` steps); teacher weights ``+-g`` (default ``3/sqrt(n_inputs)``);
    one output neuron per replica whose spike is the teacher's sample
    (``stochastic_binary_spikes`` of the teacher's input) while ``y1`` is the
    student's probability (``probability7`` of ``sum_j (c_j dw - g) s_j``,
    contacts from the engine's weights). ``delay = 1`` drives the output at
    step ``r`` with the inputs of step ``r - 1`` (a compiled network's
    synaptic delay) while the rule pairs them with the pre spikes of step
    ``r``; ``delay = 0`` pairs each output with its own inputs.
    """
    g = 3.0 / np.sqrt(n_inputs) if g is None else float(g)
    step = 2.0 * g
    unit = SCALE / temperature
    step_int, g_int = int(round(step * unit)), int(round(g * unit))
    lp = lower_program(params.program())
    R, N = replicas, n_inputs
    rng = np.random.default_rng(seed)
    teacher = np.where(rng.random((R, N)) < 0.5, 1, -1)
    c0 = rng.random((R, N)) < params.rho
    pre_idx = np.arange(R * N)
    post_idx = np.repeat(np.arange(R), N)
    st = init_learning_state(pre_idx, post_idx, c0.ravel().astype(np.int64) - (1 if params.stores_complement else 0), R * N, R)
    sign_mode = _sign_mode(params)
    s = np.zeros((R, N), dtype=bool)
    s_prev = s
    rec, ovl, flips = [], [], []
    n_flips = np.zeros(R, dtype=np.int64)
    w_lo, w_hi = int(st.w.min()), int(st.w.max())
    for r in range(steps):
        if r % hold == 0:
            s_prev, s = s, rng.random((R, N)) < input_rate
        else:
            s_prev = s
        drive = s_prev if delay else s
        c = _contact(params, st.w).reshape(R, N)
        x_teacher = (teacher * g_int * drive).sum(axis=1)
        x_student = ((c * step_int - g_int) * drive).sum(axis=1)
        post = stochastic_binary_spikes(x_teacher, NOISE_WIDTH, seed, 1, r)
        trace_step(lp, st, r, s.ravel(), post, seed, 0, post_prob7=probability7(x_student, NOISE_WIDTH))
        if epoch_due(lp, r):
            apply_rules(lp, st, r, seed, 0, sign_mode)
        w_lo, w_hi = min(w_lo, int(st.w.min())), max(w_hi, int(st.w.max()))
        c_new = _contact(params, st.w).reshape(R, N)
        n_flips += (c_new != c).sum(axis=1)
        if (r + 1) % record_every == 0:
            rec.append(r + 1)
            ovl.append(((2 * c_new - 1) == teacher).mean(axis=1))
            flips.append(n_flips.copy())
            n_flips[:] = 0
    return FixedTeacherStudentRun(np.array(rec), np.array(ovl), np.array(flips), (w_lo, w_hi))

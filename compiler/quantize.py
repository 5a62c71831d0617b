"""Quantization: float IR parameters to the integers of Lava's bit-accurate Loihi models.

:func:`quantize` maps every population and projection of a
:class:`~yuragi.ir.Network` onto the fixed-point arithmetic of lava-nc 0.10.0,
``PyLifModelBitAcc`` (``lava/proc/lif/models.py``, base
``AbstractPyLifModelFixed``) and ``PyDenseModelBitAcc`` / ``PySparseModelBitAcc``
(``lava/proc/dense/models.py``, ``lava/proc/sparse/models.py``, with
``clip_weights`` / ``truncate_weights`` of ``lava/utils/weightutils.py``), and
reports the error every rounding introduces.

Float semantics (``yuragi/ir/neurons.py``, step ``dt`` ms)::

    u[t] = u[t-1] (1 - dt/tau_syn) + sum_j w_ij s_j[t-1]          (u, w in mV/ms)
    v[t] = v[t-1] (1 - dt/tau_mem) + dt (u[t] + bias)              (v in mV)

Integer semantics (``compiler/compiled.py``)::

    u = trunc(u (4096 - (du + 1)) / 4096) + (a_in << 6)            (ds_offset = 1)
    v = trunc(v (4096 - dv) / 4096) + u + (bias_mant << bias_exp)  (dm_offset = 0)
    spike when v > vth << 6
    a_in = sum_j (W_ij << weight_exp)   over the spikes of the previous step

The map. Each post population gets one real **scale** ``S`` (integer units per
mV) and::

    v_int = S v          u_int = S dt u          vth << 6 = S v_th
    bias_mant << bias_exp = S dt bias
    (W << weight_exp) << 6 = S dt w                 (per synapse)
    (4096 - (du + 1)) / 4096 = 1 - dt/tau_syn       (4095/4096 at best for tau = inf)
    (4096 - dv) / 4096       = 1 - dt/tau_mem       (dv = 0: no decay, tau = inf)

so the integer model is the float model multiplied by ``S``; what is lost is
the rounding of each integer to its grid (reported) and the truncation of
the decay multiply (at most 1 integer unit per step, ``2**-20`` of threshold).

**Scale rule.** ``S`` is the largest scale that satisfies every constraint:

1. *threshold headroom*: ``S v_th = 2**(state_bits - 1 - HEADROOM_BITS) = 2**20``
   (24-bit state). ``v`` clips at ``+-(2**23 - 1)`` and ``u`` wraps at
   ``+-2**23``; with the threshold at ``2**20`` inhibition can drive ``v`` to
   ``-8 v_th`` before it clips, ``u`` can reach ``8 v_th / dt`` before it
   wraps, and one step of synaptic input up to ``2 v_th`` fits the 16-bit
   ``a_out`` Lava declares for Dense (``LavaPyType(np.int32, precision=16)``:
   ``2**15 << 6 = 2**21``, the hardware dendritic accumulator). Beyond about
   ``2**14`` a larger scale no longer improves accuracy (the 8-bit weights and
   12-bit decays dominate), so the headroom costs nothing measurable.
2. *bias range*: ``S dt |bias| <= (2**12 - 1) << bias_exp_max`` (13-bit signed
   mantissa, 3-bit exponent).
3. *weight range*: the strongest synapse of every incoming projection fits
   ``k_max << (weight_exp_max + shift + 6)``.
4. *threshold mantissa*: ``S v_th <= (2**vth_mant_bits - 1) << vth_shift``.
5. *weight unit*: when a plastic projection's program sets ``weight_unit``
   (the IR weight of one integer step ``W = 1`` of the learning engine's
   weight), ``S`` is the **largest** scale not above rules 1-4 (rule 3 without
   that projection) with ``weight_unit * per_unit == 2**(weight_exp + 6)``
   for an integer ``weight_exp`` in ``[max(0, weight_exp_min),
   weight_exp_max]`` (``per_unit = S dt`` for LIF/EIF, ``S`` for
   StochasticBinary). Several plastic projections into one population need
   units that differ by powers of two. If no exponent fits (or the units are
   incompatible) quantization fails with a :class:`CompileError` naming the
   projections.

The binding constraint is reported (``scale_limited_by``). With rule 1
binding, ``vth = 2**14`` exactly and the threshold error is 0.

**Weights.** Lava reads ``W`` (already clipped to ``[-256, 255]``) as a
``num_weight_bits`` mantissa ``k`` on a grid of step ``2**shift``,
``shift = 8 - num_weight_bits + is_mixed`` (``truncate_weights``): mixed sign
``k in [-2**(nb-1), 2**(nb-1) - 1]``, excitatory ``k in [0, 2**nb - 1]``,
inhibitory ``k in [-(2**nb - 1), 0]``. A synapse then adds
``k << (shift + weight_exp + 6)`` to ``u`` (Lava's ``w_scale = 8 - nb +
weight_exp + is_mixed``). We write ``e = shift + weight_exp`` and keep
``e >= 0``: then the shift of the *summed* activation by a negative
``weight_exp`` in ``PyDenseModelBitAcc.run_spk`` is exact (every ``W`` is a
multiple of ``2**shift``) and the synaptic input is exactly linear in the
spikes. Per projection we take the **smallest** ``e`` in
``[max(0, shift + weight_exp_min), shift + weight_exp_max]`` at which no
synapse clips (the finest grid that holds the strongest synapse, as Lava's
``optimize_weight_bits`` and nengo-loihi do), round each weight to the
nearest grid point (halves away from zero) and store ``W = k << shift``, so
Lava's clip and truncate leave it unchanged. The sign mode follows the
weights (all >= 0: excitatory, all <= 0: inhibitory, else mixed).

**Plastic projections** (``plasticity`` set) always use ``num_weight_bits =
8``: Lava's learning engine keeps 8-bit weights (``W_WEIGHTS_U = 8``) and
the learned ``W`` is any integer of the sign mode's range. Their sign mode
also follows the initial weights (:func:`sign_mode_of` with ``plastic=True``:
single-signed weights keep their sign, the learning engine saturating at 0;
all-zero initial weights give mixed). Because learned weights are not
multiples of ``2**shift``, plastic projections keep ``weight_exp >= 0``: one
integer step ``W = 1`` then adds exactly ``2**(weight_exp + 6)`` to ``u``,
which the report gives as the projection's weight unit. With a
``weight_unit`` (rule 5) the exponent is pinned by the post population's
scale and ``W = round(w / weight_unit)`` on the grid of the sign mode: exact
for multiples of the unit in excitatory / inhibitory mode; a mixed-sign
8-bit weight is stored on Lava's grid of 2 (``truncate_weights`` drops its
lowest bit), so there only even multiples are exact (the rest is rounded and
reported). Weights beyond the 8-bit range of the unit are an error.
Projections with ``release_prob < 1`` quantize as usual: release is applied
at run time.

**Synapse storage.** Sparse IR weights keep their coordinates (``dense=False``,
explicit zeros included). Dense IR weights keep ``dense=True`` (Lava ``Dense``
holds all ``n_post x n_pre`` synapses) but the coordinate arrays list only the
entries whose *float* weight is non-zero (the IR's synapses,
``Projection.n_synapses``), including those that round to 0 (counted as
``n_zeroed``); ``CompiledProjection.dense_matrix()`` restores the matrix.

**StochasticBinary** populations (dimensionless input ``h``, later run by a
custom/microcode neuron) use the same Dense path with ``u_int = S h``,
``S = 2**SB_TEMPERATURE_BITS / temperature`` (one temperature unit = ``2**16``,
so the sigmoid argument is ``u_int / 2**16``; ``|h| / T`` up to 128 fits the
24-bit ``u`` and up to 32 per step fits the 16-bit ``a_out``), bounded by
rules 2, 3 and 5. Their ``du`` is ``4095`` (retention exactly 0: ``u`` holds this
step's input), ``dv = vth = 0`` (unused), bias ``S bias``, and
``params = (("noise_width", N),)`` with ``N = round(4 T S)``: the neuron
spikes with probability ``clip(1/2 + x / N, 0, 1)`` for the drive ``x = S (h
+ bias)`` (:mod:`yuragi.fixedpoint.stochastic`), i.e. ``clip(1/2 + (h +
bias) / (4 T), 0, 1)``, the piecewise-linear function with the slope
``1/(4T)`` of ``sigmoid((h + bias) / T)`` at 0 (not the logistic itself;
the report states it). **EIF** populations
get the LIF fields with ``v_th`` the spike cut-off, and the integers of
their Loihi 2 neuron program in ``params`` (``eif_v0``, ``eif_k``,
``eif_k_shift``, ``eif_frac_bits``, ``eif_table_bits``, ``eif_v_reset``; see
:func:`yuragi.fixedpoint.eif.eif_params` and docs/backends.md); the report's
``extra`` keeps ``v_T`` and ``delta_T`` scaled by ``S``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ..errors import CompileError
from ..fixedpoint.eif import eif_params
from ..hw_profiles import HardwareProfile, load_profile
from ..ir import Network
from ..ir._arrays import find_named
from ..ir.network import Population
from ..ir.neurons import EIF, StochasticBinary
from ..ir.projection import Projection, SparseWeights
from .compiled import (
    SIGN_EXCITATORY,
    SIGN_INHIBITORY,
    SIGN_MIXED,
    CompiledPopulation,
    CompiledProjection,
)

__all__ = [
    "HEADROOM_BITS",
    "LAVA_WEIGHT_BITS",
    "LEARNING_WEIGHT_BITS",
    "NOISE_WIDTH_PER_TEMPERATURE",
    "SB_TEMPERATURE_BITS",
    "SIGN_MODE_NAMES",
    "PopulationQuantization",
    "ProjectionQuantization",
    "QuantizationReport",
    "QuantizedNetwork",
    "effective_weights",
    "quantize",
    "round_half_away",
    "sign_mode_of",
    "split_bias",
    "u_decay",
    "u_retention",
    "v_decay",
    "v_retention",
    "weight_grid",
]

# --- Lava constants that are semantics, not profile numbers ------------------
#: Width Lava clips weights to and truncates from (lava/utils/weightutils.py:
#: ``clip_weights(num_bits=8)``, ``truncate_weights(max_num_weight_bits=8)``).
LAVA_WEIGHT_BITS = 8
#: ``ds_offset`` / ``dm_offset`` of ``AbstractPyLifModelFixed`` (lava/proc/lif/models.py).
U_DECAY_OFFSET, V_DECAY_OFFSET = 1, 0
#: Threshold placed at ``2**(state_bits - 1 - HEADROOM_BITS)`` (= 2**20 for 24-bit state).
HEADROOM_BITS = 3
#: StochasticBinary: one temperature unit = ``2**SB_TEMPERATURE_BITS`` integer units of ``u``.
SB_TEMPERATURE_BITS = 16
#: StochasticBinary noise width ``N = NOISE_WIDTH_PER_TEMPERATURE * T * S``: the slope ``1/N`` of the
#: piecewise-linear activation matches the slope ``1/(4 T)`` of ``sigmoid(h / T)`` at ``h = 0``.
NOISE_WIDTH_PER_TEMPERATURE = 4
#: Range of the noise width (``yuragi.fixedpoint.stochastic.stochastic_binary_spikes``: ``[2, 2**31]``).
NOISE_WIDTH_MIN, NOISE_WIDTH_MAX = 2, 1 << 31
#: Weight bits of plastic projections: Lava's learning engine keeps 8-bit weights
#: (``magma/core/learning/constants.py`` ``W_WEIGHTS_U = 8``, signed 9).
LEARNING_WEIGHT_BITS = 8

SIGN_MODE_NAMES: Mapping[int, str] = {SIGN_MIXED: "mixed", SIGN_EXCITATORY: "excitatory", SIGN_INHIBITORY: "inhibitory"}


# ============================================================== small helpers


def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """Round to the nearest integer, halves away from zero (sign-symmetric), as int64."""
    x = np.asarray(x, dtype=np.float64)
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int64)


def _decay_unity(decay_bits: int) -> int:
    return 1 << decay_bits


def u_decay(tau_syn: float, dt: float, decay_bits: int = 12) -> int:
    """Lava ``du`` whose retention ``(2**bits - (du + 1)) / 2**bits`` is nearest ``1 - dt/tau_syn``.

    Parameters
    ----------
    tau_syn : float
        Current time constant, ms (``math.inf``: no decay; the closest Lava can
        do is ``du = 0``, retention ``4095/4096``).
    dt : float
        Time step, ms.
    decay_bits : int
        Width of ``du`` (12; ``profile.bits.decay_bits``).

    Returns
    -------
    int
        ``du`` in ``[0, 2**decay_bits - 1]``.
    """
    unity = _decay_unity(decay_bits)
    rate = 0.0 if math.isinf(tau_syn) else dt / tau_syn
    return int(np.clip(int(round_half_away(unity * rate)) - U_DECAY_OFFSET, 0, unity - 1))


def v_decay(tau_mem: float, dt: float, decay_bits: int = 12) -> int:
    """Lava ``dv`` whose retention ``(2**bits - dv) / 2**bits`` is nearest ``1 - dt/tau_mem``.

    ``tau_mem = math.inf`` gives ``dv = 0`` (exactly no decay). Result in ``[0, 2**decay_bits - 1]``.
    """
    unity = _decay_unity(decay_bits)
    rate = 0.0 if math.isinf(tau_mem) else dt / tau_mem
    return int(np.clip(int(round_half_away(unity * rate)) - V_DECAY_OFFSET, 0, unity - 1))


def u_retention(du: int, decay_bits: int = 12) -> float:
    """Per-step factor Lava multiplies ``u`` by: ``(2**bits - (du + 1)) / 2**bits``."""
    unity = _decay_unity(decay_bits)
    return (unity - (du + U_DECAY_OFFSET)) / unity


def v_retention(dv: int, decay_bits: int = 12) -> float:
    """Per-step factor Lava multiplies ``v`` by: ``(2**bits - dv) / 2**bits``."""
    unity = _decay_unity(decay_bits)
    return (unity - (dv + V_DECAY_OFFSET)) / unity


def _retention_error(realised: float, wanted: float) -> float:
    """Relative error of a retention factor (absolute when the wanted factor is 0)."""
    return abs(realised - wanted) / wanted if wanted > 0 else abs(realised - wanted)


def _effective_tau(retention: float, dt: float) -> float:
    """Time constant (ms) of a per-step retention factor; ``inf`` for 1."""
    return math.inf if retention >= 1.0 else dt / (1.0 - retention)


def split_bias(target: float, mant_bits: int = 13, exp_max: int = 7) -> tuple[int, int, bool]:
    """Write an integer bias as ``mant << exp`` (Lava ``bias_mant``, ``bias_exp``).

    Parameters
    ----------
    target : float
        Wanted bias in integer ``v`` units per step (``S dt bias``).
    mant_bits : int
        Signed mantissa width (13: ``[-4096, 4095]``).
    exp_max : int
        Largest exponent (7; ``bias_exp`` is 3-bit unsigned in Lava).

    Returns
    -------
    mant, exp : int
        The smallest ``exp`` whose rounded mantissa fits (finest grid), and it.
    clipped : bool
        True when even ``exp_max`` does not fit and the mantissa was clipped.
    """
    lo, hi = -(1 << (mant_bits - 1)), (1 << (mant_bits - 1)) - 1
    for exp in range(exp_max + 1):
        mant = int(round_half_away(target / (1 << exp)))
        if lo <= mant <= hi:
            return mant, exp, False
    return int(np.clip(round_half_away(target / (1 << exp_max)), lo, hi)), exp_max, True


def sign_mode_of(values: np.ndarray, plastic: bool = False) -> int:
    """Lava sign mode for float weights (``determine_sign_mode``), also for plastic projections.

    All ``>= 0`` (incl. all zero): excitatory; all ``<= 0``: inhibitory; else
    mixed. A plastic projection (``plastic=True``) keeps the sign of its
    initial weights as on Loihi: the learning engine saturates learned
    weights to the sign mode's range (excitatory ``[0, 255]``, inhibitory
    ``[-255, 0]``, mixed ``[-256, 255]``; ``yuragi.fixedpoint.learning``), so
    single-signed weights never change sign; a plastic projection whose
    initial weights are all zero is mixed (learning decides the sign; zero
    is exact on every grid).
    """
    values = np.asarray(values)
    if plastic and (values.size == 0 or not values.any()):
        return SIGN_MIXED
    if values.size == 0 or values.min() >= 0:
        return SIGN_EXCITATORY
    if values.max() <= 0:
        return SIGN_INHIBITORY
    return SIGN_MIXED


def weight_grid(num_weight_bits: int, sign_mode: int) -> tuple[int, int, int]:
    """The integer weights Lava's Dense can hold for ``num_weight_bits`` and ``sign_mode``.

    ``W = k << shift`` with ``shift = 8 - num_weight_bits + is_mixed``
    (``truncate_weights``) and ``k`` in ``[k_min, k_max]`` (``clip_weights`` to
    ``[-256, 255]`` mixed, ``[0, 255]`` excitatory, ``[-255, 0]`` inhibitory).

    Returns
    -------
    shift, k_min, k_max : int
    """
    mixed = int(sign_mode == SIGN_MIXED)
    shift = LAVA_WEIGHT_BITS - num_weight_bits + mixed
    if sign_mode == SIGN_MIXED:
        return shift, -(1 << (num_weight_bits - 1)), (1 << (num_weight_bits - 1)) - 1
    if sign_mode == SIGN_INHIBITORY:
        return shift, -((1 << num_weight_bits) - 1), 0
    return shift, 0, (1 << num_weight_bits) - 1


def effective_weights(weights: np.ndarray, weight_exp: int, act_shift: int = 6) -> np.ndarray:
    """What one spike through each synapse adds to ``u``: ``(W << weight_exp) << act_shift``.

    ``>>`` for a negative ``weight_exp`` (``PyDenseModelBitAcc.run_spk``), then
    ``<< act_shift`` (``AbstractPyLifModelFixed.subthr_dynamics``). int64.
    """
    w = np.asarray(weights, dtype=np.int64)
    w = np.left_shift(w, weight_exp) if weight_exp > 0 else np.right_shift(w, -weight_exp)
    return np.left_shift(w, act_shift)


def _clean(value: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None, tuples to lists."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (tuple, list)):
        return [_clean(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


# ==================================================================== report


@dataclass(frozen=True)
class PopulationQuantization:
    """Quantization of one neuron population (one row of the report).

    Parameters
    ----------
    name, kind : str
        Population name and IR model kind.
    scale : float
        ``S``: integer ``v`` units per mV (StochasticBinary: integer ``u``
        units per unit of input ``h``).
    scale_limited_by : str
        The constraint that set ``S`` (see module docstring).
    du, dv, vth, bias_mant, bias_exp : int
        The integer parameters (as in the compiled population).
    tau_syn_eff, tau_mem_eff : float
        Time constants the integer decays realise, ms (``inf``: no decay).
    du_error, dv_error : float
        Relative error of the per-step retention factor (``1 - dt/tau``) the
        integer decay realises (absolute when the wanted factor is 0).
    vth_error, bias_error : float
        Relative error of threshold and bias (0 when exact or zero).
    v_min, v_max : float
        Range of ``v`` before Lava clips it, mV.
    u_max : float
        Largest ``|u|`` before Lava's 24-bit ``u`` wraps, IR units (mV/ms).
    worst_step_input : float
        Largest total synaptic input one neuron can receive in one step (all
        presynaptic neurons spiking), IR units; compare with ``u_max``.
    n_v_init_clipped : int
        Initial voltages outside ``[v_min, v_max]`` (clipped).
    extra : tuple of (str, float)
        Model parameters in integer units: EIF ``v_T_int``, ``delta_T_int``
        (the EIF neuron program itself is in the compiled ``params``); StochasticBinary
        ``temperature_int`` (``T S``) and ``noise_width`` (``N``, the
        compiled population's ``param("noise_width")``).
    """

    name: str
    kind: str
    scale: float
    scale_limited_by: str
    du: int
    dv: int
    vth: int
    bias_mant: int
    bias_exp: int
    tau_syn_eff: float
    tau_mem_eff: float
    du_error: float
    dv_error: float
    vth_error: float
    bias_error: float
    v_min: float
    v_max: float
    u_max: float
    worst_step_input: float
    n_v_init_clipped: int = 0
    extra: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row (``inf`` as ``null``)."""
        out = {k: _clean(getattr(self, k)) for k in self.__dataclass_fields__ if k != "extra"}
        out["extra"] = {k: _clean(v) for k, v in self.extra}
        return out


@dataclass(frozen=True)
class ProjectionQuantization:
    """Quantization of one projection's weights (one row of the report).

    Parameters
    ----------
    name, pre, post : str
        Projection and its populations.
    num_weight_bits, weight_exp : int
        Lava Dense parameters chosen.
    sign_mode : str
        ``mixed``, ``excitatory`` or ``inhibitory``.
    weight_step : float
        Weight of one mantissa step ``k = 1``, IR units (mV/ms).
    n_synapses : int
        Synapses quantized (non-zero float weights for dense IR weights, all
        stored coordinates for sparse).
    rms_rel_error : float
        ``sqrt(sum (w_q - w)**2 / sum w**2)`` over the synapses.
    max_abs_rel_error : float
        Largest ``|w_q - w| / |w|`` over synapses with ``w != 0``.
    max_abs_error : float
        Largest ``|w_q - w|``, IR units.
    n_clipped : int
        Synapses beyond the representable range (clipped to it).
    n_zeroed : int
        Synapses with a non-zero float weight that became 0.
    weight_unit : float or None
        Plastic projections: the IR weight of one integer step of the
        learning engine's weight (``W = 1``, adding exactly
        ``2**(weight_exp + 6)`` to ``u``); None for static projections.
    weight_unit_requested : bool
        True when ``weight_unit`` is the program's ``weight_unit`` (exact),
        False when the compiler chose it.
    """

    name: str
    pre: str
    post: str
    num_weight_bits: int
    weight_exp: int
    sign_mode: str
    weight_step: float
    n_synapses: int
    rms_rel_error: float
    max_abs_rel_error: float
    max_abs_error: float
    n_clipped: int
    n_zeroed: int
    weight_unit: float | None = None
    weight_unit_requested: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row."""
        return {k: _clean(getattr(self, k)) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class QuantizationReport:
    """Every quantization error of one network: one row per neuron population and projection."""

    populations: tuple[PopulationQuantization, ...]
    projections: tuple[ProjectionQuantization, ...]

    def population(self, name: str) -> PopulationQuantization:
        """The row of population ``name``."""
        return find_named(self.populations, name)

    def projection(self, name: str) -> ProjectionQuantization:
        """The row of projection ``name``."""
        return find_named(self.projections, name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"populations": [...], "projections": [...]}``."""
        return {
            "populations": [row.to_dict() for row in self.populations],
            "projections": [row.to_dict() for row in self.projections],
        }


@dataclass(frozen=True, eq=False)
class QuantizedNetwork:
    """The output of :func:`quantize`: integer populations and projections, and the report.

    Populations and projections are in the network's order; spike sources are
    ``CompiledPopulation(kind=..., source=model)``.
    """

    populations: tuple[CompiledPopulation, ...]
    projections: tuple[CompiledProjection, ...]
    report: QuantizationReport

    def population(self, name: str) -> CompiledPopulation:
        """The compiled population called ``name``."""
        return find_named(self.populations, name)

    def projection(self, name: str) -> CompiledProjection:
        """The compiled projection called ``name``."""
        return find_named(self.projections, name)


# ================================================================== weights


@dataclass(frozen=True)
class _ProjectionPlan:
    """What is fixed about a projection before its post population's scale is known."""

    proj: Projection
    pre_idx: np.ndarray
    post_idx: np.ndarray
    values: np.ndarray  # float weights of the synapses, IR units
    delays: np.ndarray
    dense: bool
    num_weight_bits: int
    sign_mode: int
    plastic: bool = False
    unit: float | None = None  # the program's weight_unit (IR weight of W = 1), if any


def _synapses(proj: Projection, n_post: int, n_pre: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Coordinates, float values and delays of a projection's synapses (see module docstring)."""
    delays = np.asarray(proj.delays)
    if isinstance(proj.weights, SparseWeights):
        w = proj.weights
        d = np.broadcast_to(delays, w.values.shape) if delays.ndim == 0 else delays
        return w.pre, w.post, w.values, np.asarray(d, dtype=np.int64), False
    matrix = np.asarray(proj.weights)
    post, pre = np.nonzero(matrix)
    d = np.broadcast_to(delays, (post.size,)) if delays.ndim == 0 else delays[post, pre]
    return pre, post, matrix[post, pre], np.asarray(d, dtype=np.int64), True


def _weight_exp_range(shift: int, profile: HardwareProfile, plastic: bool = False) -> tuple[int, int]:
    """Range of ``e = shift + weight_exp`` (linear Dense: ``e >= 0``; plastic: ``weight_exp >= 0``)."""
    if plastic:
        # learned weights take every integer W, so only weight_exp >= 0 keeps the summed input linear
        lo = shift + max(0, profile.bits.weight_exp_min)
    else:
        lo = max(0, shift + profile.bits.weight_exp_min)
    hi = shift + profile.bits.weight_exp_max
    return lo, hi


def _plastic_weight_exp_range(profile: HardwareProfile) -> tuple[int, int]:
    """Range of a plastic projection's Lava ``weight_exp`` (``>= 0``, see :func:`_weight_exp_range`)."""
    return max(0, profile.bits.weight_exp_min), profile.bits.weight_exp_max


def _choose_weight_exp(targets: np.ndarray, k_min: int, k_max: int, e_lo: int, e_hi: int, act: int) -> int:
    """Smallest ``e`` in ``[e_lo, e_hi]`` at which every representable-sign target fits (else ``e_hi``).

    ``targets`` are wanted ``u`` increments (integer units). A sign the grid
    cannot hold at all (``k_max == 0`` for positive targets of 1-bit mixed
    weights) rounds to 0 whatever ``e`` is, so it does not drive the choice.
    """
    pos = targets[targets > 0] if k_max > 0 else np.empty(0)
    neg = targets[targets < 0] if k_min < 0 else np.empty(0)
    top = pos.max() if pos.size else 0.0
    bottom = neg.min() if neg.size else 0.0
    for e in range(e_lo, e_hi + 1):
        q = float(1 << (e + act))
        if int(round_half_away(top / q)) <= k_max and int(round_half_away(bottom / q)) >= k_min:
            return e
    return e_hi


def _quantize_projection(
    plan: _ProjectionPlan, n_pre: int, n_post: int, per_unit: float, profile: HardwareProfile, weight_exp: int | None = None,
) -> tuple[CompiledProjection, ProjectionQuantization, list[str]]:
    """Integer weights of one projection whose post population has ``per_unit`` integer u-units per IR weight unit.

    ``weight_exp`` is given for a plastic projection with a ``weight_unit``
    (pinned by the post population's scale, see :func:`_unit_scale`): then
    ``W = round(w / weight_unit)`` on the sign mode's grid, exactly, and
    weights beyond the grid are a problem (returned) rather than clipped.
    """
    act = profile.bits.act_shift
    nb, mode = plan.num_weight_bits, plan.sign_mode
    shift, k_min, k_max = weight_grid(nb, mode)
    problems: list[str] = []
    w = plan.values
    proj = plan.proj
    if weight_exp is not None and plan.unit is not None:
        e = shift + weight_exp
        k_raw = round_half_away(w / (plan.unit * (1 << shift)))
        k = np.clip(k_raw, k_min, k_max)
        weight_step = plan.unit * (1 << shift)
        w_q = k * weight_step
        if np.any(k_raw != k):
            worst = float(w[np.argmax(np.abs(w / plan.unit))])
            problems.append(
                f"projection '{proj.name}': weight {worst:g} is {worst / plan.unit:g} weight units (weight_unit = "
                f"{plan.unit:g}), outside the learning engine's {SIGN_MODE_NAMES[mode]} range "
                f"[{k_min << shift}, {k_max << shift}] units (8-bit weights); use a larger weight_unit or smaller weights"
            )
    else:
        e_lo, e_hi = _weight_exp_range(shift, profile, plan.plastic)
        targets = w * per_unit
        e = _choose_weight_exp(targets, k_min, k_max, e_lo, e_hi, act)
        step = float(1 << (e + act))
        k_raw = round_half_away(targets / step)
        k = np.clip(k_raw, k_min, k_max)
        weight_step = step / per_unit
        w_q = k * step / per_unit
    unit = None
    if plan.plastic:
        unit = plan.unit if plan.unit is not None else float(1 << (e - shift + act)) / per_unit
    compiled = CompiledProjection(
        name=proj.name, pre=proj.pre, post=proj.post, n_pre=n_pre, n_post=n_post,
        pre_idx=plan.pre_idx, post_idx=plan.post_idx, weights=np.left_shift(k, shift), delays=plan.delays,
        num_weight_bits=nb, weight_exp=e - shift, sign_mode=mode, dense=plan.dense,
        release_prob=float(proj.release_prob), plasticity=proj.plasticity,
    )
    nonzero = w != 0
    err = np.abs(w_q - w)
    norm = float(np.sum(w**2))
    row = ProjectionQuantization(
        name=proj.name, pre=proj.pre, post=proj.post, num_weight_bits=nb, weight_exp=e - shift,
        sign_mode=SIGN_MODE_NAMES[mode], weight_step=weight_step, n_synapses=int(w.size),
        rms_rel_error=float(np.sqrt(np.sum(err**2) / norm)) if norm > 0 else 0.0,
        max_abs_rel_error=float(np.max(err[nonzero] / np.abs(w[nonzero]))) if nonzero.any() else 0.0,
        max_abs_error=float(err.max()) if err.size else 0.0,
        n_clipped=int(np.count_nonzero(k_raw != k)),
        n_zeroed=int(np.count_nonzero(nonzero & (k == 0))),
        weight_unit=unit, weight_unit_requested=plan.unit is not None,
    )
    return compiled, row, problems


def _weight_scale_limits(plan: _ProjectionPlan, per_unit_per_s: float, profile: HardwareProfile) -> list[tuple[float, str]]:
    """Largest ``S`` at which the strongest synapses of ``plan`` still fit (rule 3)."""
    act = profile.bits.act_shift
    shift, k_min, k_max = weight_grid(plan.num_weight_bits, plan.sign_mode)
    _, e_hi = _weight_exp_range(shift, profile, plan.plastic)
    top = float(1 << (e_hi + act))
    out = []
    pos, neg = plan.values[plan.values > 0], plan.values[plan.values < 0]
    if pos.size and k_max > 0:
        out.append((k_max * top / (per_unit_per_s * pos.max()), f"weights of projection '{plan.proj.name}'"))
    if neg.size and k_min < 0:
        out.append((-k_min * top / (per_unit_per_s * -neg.min()), f"weights of projection '{plan.proj.name}'"))
    return out


def _worst_step_input(plans: list[_ProjectionPlan], size: int) -> float:
    """Largest |sum of one neuron's positive (or negative) incoming float weights|, IR units."""
    pos = np.zeros(size)
    neg = np.zeros(size)
    for plan in plans:
        np.add.at(pos, plan.post_idx, np.clip(plan.values, 0, None))
        np.add.at(neg, plan.post_idx, np.clip(plan.values, None, 0))
    return float(max(pos.max(initial=0.0), -neg.min(initial=0.0)))


# ============================================================== populations


@dataclass(frozen=True)
class _Scale:
    """A population's scale ``S``, what set it, the weight exponents it pins, and any problem."""

    value: float
    limited_by: str
    pinned: Mapping[str, int]  # Lava weight_exp of each plastic projection with a weight_unit
    problem: str | None = None


def _unit_scale(pop: Population, unit_plans: list[_ProjectionPlan], per_s: float, s_other: float, why: str, profile: HardwareProfile) -> _Scale:
    """Rule 5: the largest ``S <= s_other`` with ``weight_unit * S * per_s == 2**(weight_exp + act_shift)``.

    One ``S`` serves every plastic projection with a ``weight_unit`` into
    ``pop``, each with its own integer ``weight_exp`` in
    ``[max(0, weight_exp_min), weight_exp_max]``; their units must therefore
    differ by powers of two.
    """
    act = profile.bits.act_shift
    lo, hi = _plastic_weight_exp_range(profile)
    ref = min(unit_plans, key=lambda p: p.unit)  # smallest unit: the lowest exponent
    names = ", ".join(f"'{p.proj.name}' (weight_unit={p.unit:g})" for p in unit_plans)
    ratios = [math.log2(p.unit / ref.unit) for p in unit_plans]
    if any(abs(m - round(m)) > 1e-9 or round(m) > hi - lo for m in ratios):
        return _Scale(s_other, why, {}, (
            f"population '{pop.name}': plastic projections {names} ask for incompatible weight units: one scale per "
            f"population makes each unit 2**(weight_exp + {act}) integer units with weight_exp in [{lo}, {hi}], so the "
            f"units must differ by a power of two of at most 2**{hi - lo}; give them such weight units"
        ))
    for we in range(hi - max(int(round(m)) for m in ratios), lo - 1, -1):
        scale = 2.0 ** (we + act) / (ref.unit * per_s)
        if scale <= s_other * (1.0 + 1e-12):
            pinned = {p.proj.name: we + int(round(m)) for p, m in zip(unit_plans, ratios)}
            return _Scale(scale, f"weight unit of projection '{ref.proj.name}' (weight_exp = {we})", pinned)
    least = 2.0 ** (lo + act) / (s_other * per_s)
    return _Scale(s_other, why, {}, (
        f"projection '{ref.proj.name}': weight_unit={ref.unit:g} needs a scale of at least {2.0 ** (lo + act) / (ref.unit * per_s):.4g} "
        f"integer units per IR unit in population '{pop.name}' (one weight step = 2**(weight_exp + {act}) units, "
        f"weight_exp >= {lo}), above the largest the population allows ({s_other:.4g}, set by {why}); "
        f"use weight_unit >= {least:.4g}"
    ))


def _choose_scale(pop: Population, plans: list[_ProjectionPlan], dt: float, profile: HardwareProfile) -> _Scale:
    """The population's scale ``S`` and the constraint that set it (module docstring, rules 1-5)."""
    bits = profile.bits
    model = pop.model
    state_top = 1 << (bits.state_bits - 1)
    if isinstance(model, StochasticBinary):
        per_s = 1.0  # u_int = S * h
        limits = [((1 << SB_TEMPERATURE_BITS) / model.temperature, "temperature unit 2**16")]
    else:
        per_s = dt
        limits = [
            ((state_top >> HEADROOM_BITS) / model.v_th, f"threshold headroom (v_th = 2**{bits.state_bits - 1 - HEADROOM_BITS})"),
            ((((1 << bits.vth_mant_bits) - 1) << bits.vth_shift) / model.v_th, "threshold mantissa range"),
        ]
    if model.bias != 0:
        bias_top = ((1 << (bits.bias_mant_bits - 1)) - 1) << bits.bias_exp_max
        limits.append((bias_top / (per_s * abs(model.bias)), "bias range"))
    for plan in plans:
        if plan.unit is None:  # a weight unit fixes its projection's grid instead (rule 5)
            limits += _weight_scale_limits(plan, per_s, profile)
    s_other, why = min(limits, key=lambda item: item[0])
    unit_plans = [plan for plan in plans if plan.unit is not None]
    if not unit_plans:
        return _Scale(s_other, why, {})
    return _unit_scale(pop, unit_plans, per_s, s_other, why, profile)


def _neuron_population(
    pop: Population, plans: list[_ProjectionPlan], dt: float, profile: HardwareProfile,
) -> tuple[CompiledPopulation, PopulationQuantization, float, Mapping[str, int], list[str]]:
    """Integer parameters of one neuron population.

    Also returns the integer u-units per IR weight unit, the weight
    exponents pinned by weight units (projection name -> Lava ``weight_exp``)
    and the problems found (weight units, noise width).
    """
    bits = profile.bits
    model = pop.model
    chosen = _choose_scale(pop, plans, dt, profile)
    scale, limited_by = chosen.value, chosen.limited_by
    problems = [chosen.problem] if chosen.problem else []
    state_max = (1 << (bits.state_bits - 1)) - 1
    sb = isinstance(model, StochasticBinary)
    per_unit = scale if sb else scale * dt

    # decays (lava/proc/lif/models.py: ds_offset = 1, dm_offset = 0)
    if sb:
        du, dv = (1 << bits.decay_bits) - 1, 0  # u retention exactly 0; v unused
        du_err = dv_err = 0.0
        tau_syn_eff, tau_mem_eff = dt, math.nan  # u holds one step's input; v is not used
    else:
        du, dv = u_decay(model.tau_syn, dt, bits.decay_bits), v_decay(model.tau_mem, dt, bits.decay_bits)
        r_u = 1.0 if math.isinf(model.tau_syn) else max(1.0 - dt / model.tau_syn, 0.0)
        r_v = 1.0 if math.isinf(model.tau_mem) else max(1.0 - dt / model.tau_mem, 0.0)
        du_err = _retention_error(u_retention(du, bits.decay_bits), r_u)
        dv_err = _retention_error(v_retention(dv, bits.decay_bits), r_v)
        tau_syn_eff = _effective_tau(u_retention(du, bits.decay_bits), dt)
        tau_mem_eff = _effective_tau(v_retention(dv, bits.decay_bits), dt)

    # threshold: spike when v > vth << vth_shift
    if sb:
        vth, vth_err = 0, 0.0
    else:
        vth = int(np.clip(round_half_away(scale * model.v_th / (1 << bits.vth_shift)), 0, (1 << bits.vth_mant_bits) - 1))
        vth_err = abs(vth * (1 << bits.vth_shift) / scale - model.v_th) / model.v_th

    # bias = bias_mant << bias_exp
    bias_target = per_unit * model.bias
    bias_mant, bias_exp, _ = split_bias(bias_target, bits.bias_mant_bits, bits.bias_exp_max)
    bias_err = abs((bias_mant << bias_exp) - bias_target) / abs(bias_target) if bias_target else 0.0

    # initial state
    if sb:
        v_init = np.zeros(pop.size, dtype=np.int64)
        n_clip = 0
    else:
        raw = round_half_away(np.broadcast_to(pop.initial_v * scale, (pop.size,)))
        v_init = np.clip(raw, -state_max, state_max)
        n_clip = int(np.count_nonzero(raw != v_init))

    extra: tuple[tuple[str, float], ...] = ()
    params: tuple[tuple[str, int], ...] = ()
    if isinstance(model, EIF):
        extra = (("v_T_int", model.v_T * scale), ("delta_T_int", model.delta_T * scale))
        params = tuple(eif_params(model.v_T, model.delta_T, model.tau_mem, dt, scale, v_reset=model.v_reset,
                                  where=f"population '{pop.name}'").items())
    elif sb:
        noise_width = int(round_half_away(NOISE_WIDTH_PER_TEMPERATURE * model.temperature * scale))
        if not NOISE_WIDTH_MIN <= noise_width <= NOISE_WIDTH_MAX:
            problems.append(
                f"population '{pop.name}': StochasticBinary noise width 4*T*S = {noise_width} is outside "
                f"[{NOISE_WIDTH_MIN}, 2**31] (temperature {model.temperature:g}, scale {scale:.4g} set by {limited_by}); "
                f"use a temperature closer to the size of the inputs"
            )
            noise_width = int(np.clip(noise_width, NOISE_WIDTH_MIN, NOISE_WIDTH_MAX))
        extra = (("temperature_int", model.temperature * scale), ("noise_width", float(noise_width)))
        params = (("noise_width", noise_width),)

    compiled = CompiledPopulation(
        name=pop.name, kind=model.KIND, size=int(pop.size), du=du, dv=dv, vth=vth,
        bias_mant=np.full(pop.size, bias_mant, dtype=np.int64), bias_exp=bias_exp,
        refractory=int(getattr(model, "refractory", 0)), v_init=v_init,
        u_init=np.zeros(pop.size, dtype=np.int64), scale=float(scale), params=params,
        clamp=model.clamp if sb else None,
    )
    row = PopulationQuantization(
        name=pop.name, kind=model.KIND, scale=float(scale), scale_limited_by=limited_by,
        du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp,
        tau_syn_eff=tau_syn_eff, tau_mem_eff=tau_mem_eff,
        du_error=du_err, dv_error=dv_err, vth_error=vth_err, bias_error=bias_err,
        v_min=-state_max / scale, v_max=state_max / scale, u_max=state_max / per_unit,
        worst_step_input=_worst_step_input(plans, pop.size), n_v_init_clipped=n_clip, extra=extra,
    )
    return compiled, row, per_unit, chosen.pinned, problems


# ==================================================================== public


def _weight_bits_problems(net: Network, weight_bits: Mapping[str, int], limit: int) -> list[str]:
    names = {p.name for p in net.projections}
    plastic = {p.name for p in net.projections if p.plasticity is not None}
    out = []
    for name, nb in weight_bits.items():
        if name not in names:
            out.append(f"weight_bits names projection '{name}', which does not exist (projections: {', '.join(sorted(names)) or 'none'})")
        elif not isinstance(nb, (int, np.integer)) or isinstance(nb, bool) or not 1 <= nb <= limit:
            out.append(f"projection '{name}': num_weight_bits must be an integer in [1, {limit}], got {nb!r}")
        elif name in plastic and nb != LEARNING_WEIGHT_BITS:
            out.append(f"projection '{name}': num_weight_bits of a plastic projection is {LEARNING_WEIGHT_BITS} "
                       f"(Lava's learning engine keeps 8-bit weights), got {nb!r}; drop its weight_bits entry")
    return out


def _plan(proj: Projection, sizes: Mapping[str, int], nb: int) -> _ProjectionPlan:
    pre_idx, post_idx, values, delays, dense = _synapses(proj, sizes[proj.post], sizes[proj.pre])
    plastic = proj.plasticity is not None
    return _ProjectionPlan(proj, pre_idx, post_idx, np.asarray(values, dtype=np.float64), delays, dense,
                           LEARNING_WEIGHT_BITS if plastic else nb, sign_mode_of(values, plastic=plastic),
                           plastic=plastic, unit=proj.plasticity.weight_unit if plastic else None)


def quantize(net: Network, profile: HardwareProfile | str, weight_bits: Mapping[str, int] | None = None) -> QuantizedNetwork:
    """Quantize a network to Lava's bit-accurate Loihi integers (see the module docstring).

    Parameters
    ----------
    net : Network
        The IR network, already checked by
        :func:`yuragi.compiler.target.validate_for_target` (LIF/EIF
        ``v_reset`` is taken to be 0, time constants >= ``dt``; the IR's
        ``refractory`` is copied as is).
    profile : HardwareProfile or str
        Target profile (or its name / TOML path); its ``bits`` section gives
        every width, shift and exponent range used.
    weight_bits : mapping of str to int, optional
        ``num_weight_bits`` per projection name, overriding the default
        ``min(profile.bits.weight_bits_max, 8)``; each in ``[1, that]``.
        Plastic projections always use 8 (``LEARNING_WEIGHT_BITS``).

    Returns
    -------
    QuantizedNetwork
        Compiled populations and projections, in the network's order, and the
        :class:`QuantizationReport`.

    Raises
    ------
    CompileError
        For a ``weight_bits`` entry naming no projection or out of range;
        for weight units that cannot be met (incompatible units into one
        population, no weight exponent in range, weights beyond the 8-bit
        range of the unit) and StochasticBinary noise widths out of range,
        every problem listed.
    """
    profile = load_profile(profile)
    dt = float(net.dt)
    max_bits = min(profile.bits.weight_bits_max, LAVA_WEIGHT_BITS)
    weight_bits = dict(weight_bits or {})
    problems = _weight_bits_problems(net, weight_bits, max_bits)
    if problems:
        raise CompileError(f"cannot quantize network '{net.name}': {problems[0]}", tuple(problems))

    sizes = {p.name: int(p.size) for p in net.populations}
    plans = {proj.name: _plan(proj, sizes, int(weight_bits.get(proj.name, max_bits))) for proj in net.projections}

    pops: list[CompiledPopulation] = []
    pop_rows: list[PopulationQuantization] = []
    per_unit: dict[str, float] = {}
    pinned: dict[str, int] = {}
    for pop in net.populations:
        if pop.is_input:
            pops.append(CompiledPopulation(name=pop.name, kind=pop.model.KIND, size=int(pop.size), source=pop.model))
            continue
        incoming = [plans[p.name] for p in net.projections if p.post == pop.name]
        compiled, row, per_unit[pop.name], exps, found = _neuron_population(pop, incoming, dt, profile)
        pinned.update(exps)
        problems += found
        pops.append(compiled)
        pop_rows.append(row)

    projs, proj_rows = [], []
    for proj in net.projections:
        compiled, row, found = _quantize_projection(plans[proj.name], sizes[proj.pre], sizes[proj.post], per_unit[proj.post],
                                                    profile, weight_exp=pinned.get(proj.name))
        problems += found
        projs.append(compiled)
        proj_rows.append(row)
    if problems:
        raise CompileError(f"cannot quantize network '{net.name}': {problems[0]}"
                           + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""), tuple(problems))
    return QuantizedNetwork(tuple(pops), tuple(projs), QuantizationReport(tuple(pop_rows), tuple(proj_rows)))

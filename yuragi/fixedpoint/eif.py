"""The exponential integrate-and-fire neuron as a Loihi 2 neuron program, in integers.

Float model (Fourcaud-Trocme et al. 2003; ``yuragi.ir.neurons.EIF``, rest at
0 mV), forward Euler with step ``dt`` like the IR's LIF::

    u[t] = u[t-1] (1 - dt/tau_syn) + sum_j w_ij s_j[t-1]
    v[t] = v[t-1] (1 - dt/tau_mem) + dt (u[t] + bias)
           + (dt/tau_mem) delta_T exp((v[t-1] - v_T) / delta_T)
    spike when v[t] > v_th (the cut-off); then v = v_reset, held for `refractory` steps

**Integer program** (this module is the specification; ``S`` is the
population's scale, integer ``v`` units per mV). ``u`` is Lava's
``PyLifModelBitAcc`` current, bit for bit; ``v`` is Lava's voltage update
plus one term ``E(v)``, computed from the voltage *before* the update::

    u  = sign(u (4096 - (du+1))) (|u (4096 - (du+1))| >> 12) + (a_in << 6)
         then the 24-bit wrap (> 2**23: - 2**24; <= -2**23: + 2**24)
    v' = sign(v (4096 - dv)) (|v (4096 - dv)| >> 12) + u + (bias_mant << bias_exp) + E(v)
         clipped to [-(2**23 - 1), 2**23 - 1]
    refractory neurons (count > 0): v' = v, count -= 1
    spike when v' > (vth << 6); then v' = eif_v_reset, count = refractory

``E(v)`` approximates ``A exp((v - v_T S) / D)`` with ``D = S delta_T``
(integer units per e-fold) and ``A = S dt delta_T / tau_mem`` (what the
exponential adds per step at ``v = v_T``). Folding ``A`` into an offset,
``A exp((v - v_T S)/D) = exp((v - v0)/D) = 2**((v - v0) / (D ln 2))`` with
``v0 = S v_T - D ln A`` (where ``E = 1`` unit), and the power of two is split
into an integer and a fractional part of ``F = eif_frac_bits`` bits::

    y = ((v - eif_v0) * eif_k) >> eif_k_shift       # ~ (v - v0) 2**F / (D ln 2), floor
    n = y >> F                                       # integer part (floor, may be < 0)
    f = y & (2**F - 1)                               # table index
    T = eif_table(params)[f]                         # 2**M 2**((f + 1/2) / 2**F), M = eif_table_bits
    E = 2**23 - 1                  if n >= 23        # saturation: v' clips, the neuron spikes
        min(T << (n - M), 2**23-1) if M <= n < 23
        T >> (M - n)               if n < M          # = 0 once n < 0, i.e. for v < v0

Integer operations only: one subtract, one multiply (``|v - v0| < 2**32``
times the ``eif_k_bits``-bit ``eif_k``, a < 48-bit product; Lava's own decay
multiply is 36 bits), two shifts and a mask, one read of a ``2**F``-entry
table of ``M + 1``-bit words (shared by every EIF population with the same
``F``, ``M``), one shift and a compare for saturation. ``E`` is
non-decreasing in ``v`` and 0 below ``v0``.

**Approximation error** (of ``E`` against ``A exp((v - S v_T)/D)``): the table
holds the bin centre, so the table alone is within a factor
``2**(+-1/2**(F+1))`` (``+-0.54 %`` for ``F = 6``); the rounding of ``eif_k``
to ``eif_k_bits`` bits scales the exponent by at most ``2**-eif_k_bits``
relative (``< 0.03 %`` of ``E`` up to saturation for 16 bits), the table
words add ``2**-(M+1)`` and the final shift floors ``E`` (at most one
integer unit per step). Measured values: ``tests/test_fixedpoint_eif.py`` and
docs/backends.md ("The EIF neuron program").

The table is generated with :mod:`decimal` (correctly rounded ``2**x`` at
40 digits, halves up), so it is the same on every platform.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..errors import BackendError, CompileError

if TYPE_CHECKING:  # pragma: no cover
    from ...compiler.compiled import CompiledPopulation

__all__ = [
    "DEFAULT_FRAC_BITS",
    "DEFAULT_K_BITS",
    "DEFAULT_TABLE_BITS",
    "E_MAX",
    "EIF_PARAM_NAMES",
    "V0_OFF",
    "eif_exp",
    "eif_exp_float",
    "eif_params",
    "eif_step",
    "eif_table",
    "lif_current",
    "lif_voltage",
]

#: 24-bit state (Lava ``uv_bitwidth``): ``u`` wraps past ``2**23``, ``v`` clips to ``+-(2**23 - 1)``.
STATE_BITS = 24
MAX_UV = 1 << (STATE_BITS - 1)
V_LIMIT = MAX_UV - 1
#: Largest exponential term: the state's maximum (``v`` then clips and the neuron spikes).
E_MAX = V_LIMIT
#: ``n`` at and above which ``E`` saturates (``T >= 2**M``, so ``T << (n - M) >= 2**23``).
N_SATURATE = STATE_BITS - 1
#: ``eif_v0`` that switches the exponential term off: ``v <= 2**23 - 1 < v0`` always.
V0_OFF = MAX_UV
#: Range ``eif_v0`` is clipped to (keeps ``(v - v0) * eif_k`` far inside int64).
V0_MIN = -(1 << 31)
DECAY_SHIFT, ACT_SHIFT, VTH_SHIFT = 12, 6, 6

DEFAULT_FRAC_BITS = 6
DEFAULT_TABLE_BITS = 12
DEFAULT_K_BITS = 16

#: The kind-specific integers of an EIF :class:`~yuragi.compiler.compiled.CompiledPopulation`.
EIF_PARAM_NAMES = ("eif_frac_bits", "eif_k", "eif_k_shift", "eif_table_bits", "eif_v0", "eif_v_reset")

_W32 = 1 << 31
_M32 = (1 << 32) - 1


# ================================================================== parameters


def eif_params(v_T: float, delta_T: float, tau_mem: float, dt: float, scale: float, v_reset: float = 0.0,
               frac_bits: int = DEFAULT_FRAC_BITS, table_bits: int = DEFAULT_TABLE_BITS,
               k_bits: int = DEFAULT_K_BITS, where: str = "EIF population") -> dict[str, int]:
    """The integers of the EIF program for one population.

    Parameters
    ----------
    v_T : float
        Soft threshold, mV (rest is 0 mV).
    delta_T : float
        Slope factor, mV (> 0).
    tau_mem : float
        Membrane time constant, ms (``math.inf``: the exponential term is off,
        ``eif_v0 = V0_OFF``).
    dt : float
        Time step, ms.
    scale : float
        ``S``, integer ``v`` units per mV.
    v_reset : float
        Reset potential, mV.
    frac_bits, table_bits : int
        ``F`` (table of ``2**F`` entries, ``0 <= F <= 12``) and ``M`` (words in
        ``[2**M, 2**(M+1))``, ``1 <= M <= 22``).
    k_bits : int
        Width of the multiplier ``eif_k`` (``2 <= k_bits <= 16``).
    where : str
        Names the population in error messages.

    Returns
    -------
    dict of str to int
        ``eif_v0``, ``eif_k``, ``eif_k_shift``, ``eif_frac_bits``,
        ``eif_table_bits``, ``eif_v_reset`` (module docstring).

    Raises
    ------
    CompileError
        If a width is out of range, ``delta_T`` or ``scale`` is not > 0, or
        ``delta_T`` is too small for the scale (``eif_k`` would not fit).
    """
    if not 0 <= frac_bits <= 12 or not 1 <= table_bits <= 22 or not 2 <= k_bits <= 16:
        raise CompileError(f"{where}: EIF program widths out of range: frac_bits={frac_bits} (0..12), "
                           f"table_bits={table_bits} (1..22), k_bits={k_bits} (2..16)")
    if not (delta_T > 0 and scale > 0 and dt > 0):
        raise CompileError(f"{where}: EIF program needs delta_T, scale and dt > 0, got "
                           f"delta_T={delta_T!r}, scale={scale!r}, dt={dt!r}")
    D = scale * delta_T  # integer v units per e-fold
    rate = 0.0 if math.isinf(tau_mem) else dt / tau_mem
    amplitude = scale * rate * delta_T  # E at v = v_T, integer units per step
    if amplitude > 0:
        v0 = round(scale * v_T - D * math.log(amplitude))
        v0 = int(min(max(v0, V0_MIN), V0_OFF))
    else:
        v0 = V0_OFF
    c = (1 << frac_bits) / (D * math.log(2.0))  # y units per v unit
    k_top = 1 << k_bits
    shift = None
    for s in range(62, -1, -1):  # the largest shift (finest k) whose k still fits k_bits
        k = round(c * 2.0**s)
        if 0 < k < k_top:
            shift = s
            break
    if shift is None:
        raise CompileError(f"{where}: EIF delta_T={delta_T!r} mV is too small for the scale {scale:g} units/mV "
                           f"(the exponent multiplier does not fit {k_bits} bits); use a larger delta_T")
    return {
        "eif_frac_bits": int(frac_bits), "eif_k": int(k), "eif_k_shift": int(shift),
        "eif_table_bits": int(table_bits), "eif_v0": v0,
        "eif_v_reset": int(min(max(round(scale * v_reset), -V_LIMIT), V_LIMIT)),
    }


@lru_cache(maxsize=32)
def _table(frac_bits: int, table_bits: int) -> np.ndarray:
    ctx = Context(prec=40)
    ln2 = ctx.ln(Decimal(2))
    top = Decimal(1 << table_bits)
    out = np.empty(1 << frac_bits, dtype=np.int64)
    for f in range(1 << frac_bits):
        x = ctx.divide(Decimal(2 * f + 1), Decimal(1 << (frac_bits + 1)))  # bin centre (f + 1/2) / 2**F
        value = ctx.multiply(top, ctx.exp(ctx.multiply(x, ln2)))
        out[f] = int(value.to_integral_value(rounding=ROUND_HALF_UP))
    out.setflags(write=False)
    return out


def eif_table(params: Mapping[str, int] | tuple[tuple[str, int], ...]) -> np.ndarray:
    """The program's table: ``T[f] = round(2**M * 2**((f + 1/2) / 2**F))``, ``f < 2**F`` (int64, read-only).

    ``F = eif_frac_bits``, ``M = eif_table_bits``; halves round up; computed
    with 40-digit decimal arithmetic, so identical on every platform. Every
    entry lies in ``[2**M, 2**(M+1))`` and the table is strictly increasing
    for ``M >= F``.
    """
    p = dict(params)
    return _table(int(p["eif_frac_bits"]), int(p["eif_table_bits"]))


# ================================================================ the program


def eif_exp(v: np.ndarray, params: Mapping[str, int] | tuple[tuple[str, int], ...]) -> np.ndarray:
    """The exponential term ``E(v)`` of the program (module docstring), int64 in ``[0, 2**23 - 1]``.

    Parameters
    ----------
    v : numpy.ndarray
        Integer voltages (24-bit range), any shape.
    params : mapping or tuple of (str, int)
        The EIF program integers (:func:`eif_params`, ``CompiledPopulation.params``).
    """
    p = dict(params)
    F, M = int(p["eif_frac_bits"]), int(p["eif_table_bits"])
    table = _table(F, M)
    v = np.asarray(v, dtype=np.int64)
    y = ((v - np.int64(p["eif_v0"])) * np.int64(p["eif_k"])) >> np.int64(p["eif_k_shift"])
    n = y >> F
    t = table[y & ((1 << F) - 1)]
    up = np.minimum(t << np.clip(n - M, 0, max(N_SATURATE - M, 0)), E_MAX)  # used only for M <= n < 23
    down = t >> np.clip(M - n, 0, M + 1)
    return np.where(n >= N_SATURATE, E_MAX, np.where(n >= M, up, down))


def eif_exp_float(v: np.ndarray, params: Mapping[str, int] | tuple[tuple[str, int], ...]) -> np.ndarray:
    """What :func:`eif_exp` approximates *given the integer parameters*: ``2**((v - v0) k / (2**s 2**F))``.

    Only the table, the saturation and the final floor separate ``eif_exp``
    from this (float64; not clipped).
    """
    p = dict(params)
    v = np.asarray(v, dtype=np.float64)
    y = (v - p["eif_v0"]) * p["eif_k"] / 2.0 ** p["eif_k_shift"]
    return np.exp2(y / 2.0 ** p["eif_frac_bits"])


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((x + _W32) & _M32) - _W32


def _decay(x: np.ndarray, keep: int) -> np.ndarray:
    """``sign(x keep) (|x keep| >> 12)`` (int64 product, truncation toward 0)."""
    p = x * np.int64(keep)
    return np.where(p >= 0, p >> DECAY_SHIFT, -((-p) >> DECAY_SHIFT))


def lif_current(u: np.ndarray, a_in: np.ndarray, du: int) -> np.ndarray:
    """Lava ``PyLifModelBitAcc`` current update (int64 in, int64 out).

    ``u = trunc(u (4096 - (du + 1)) / 4096) + (a_in << 6)`` with ``a_in``,
    ``a_in << 6`` and the sum in int32 (as Lava), then the 24-bit wrap applied
    once: values ``> 2**23`` lose ``2**24``, values ``<= -2**23`` gain ``2**24``.
    """
    u = np.asarray(u, dtype=np.int64)
    a = _wrap32(_wrap32(np.asarray(a_in, dtype=np.int64)) << ACT_SHIFT)
    u = _wrap32(_decay(u, (1 << DECAY_SHIFT) - (int(du) + 1)) + a)
    u = np.where(u > MAX_UV, u - 2 * MAX_UV, u)
    return np.where(u <= -MAX_UV, u + 2 * MAX_UV, u)


def lif_voltage(v: np.ndarray, u: np.ndarray, bias: np.ndarray, dv: int, extra: np.ndarray | int = 0) -> np.ndarray:
    """Lava ``PyLifModelBitAcc`` voltage update plus ``extra``: ``clip(trunc(v (4096 - dv) / 4096) + u + bias + extra)``.

    Clipped to ``[-(2**23 - 1), 2**23 - 1]``. ``bias = bias_mant << bias_exp``.
    """
    v = np.asarray(v, dtype=np.int64)
    total = _decay(v, (1 << DECAY_SHIFT) - int(dv)) + u + bias + np.asarray(extra, dtype=np.int64)
    return np.clip(total, -V_LIMIT, V_LIMIT)


def _program(pop: "CompiledPopulation") -> dict[str, int]:
    params = dict(pop.params)
    missing = [name for name in EIF_PARAM_NAMES if name not in params]
    if missing:
        raise BackendError(f"population '{pop.name}': the EIF program needs the integer parameter(s) "
                           f"{', '.join(repr(m) for m in missing)} in its params (compile the network "
                           f"with yuragi's compiler, which sets {', '.join(EIF_PARAM_NAMES)})")
    F, M = params["eif_frac_bits"], params["eif_table_bits"]
    if not 0 <= F <= 12 or not 1 <= M <= 22 or params["eif_k"] <= 0 or not 0 <= params["eif_k_shift"] <= 62 \
            or not V0_MIN <= params["eif_v0"] <= V0_OFF or not -V_LIMIT <= params["eif_v_reset"] < int(pop.vth) << VTH_SHIFT:
        raise BackendError(f"population '{pop.name}': EIF program parameters out of range: {params} "
                           f"(allowed: eif_frac_bits 0..12, eif_table_bits 1..22, eif_k > 0, eif_k_shift 0..62, "
                           f"eif_v0 in [-2**31, 2**23], -(2**23-1) <= eif_v_reset < vth << 6)")
    return params


def eif_step(u: np.ndarray, v: np.ndarray, a_in: np.ndarray, refractory_count: np.ndarray,
             pop: "CompiledPopulation") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One step of the EIF neuron program (module docstring) for a population.

    Parameters
    ----------
    u, v : numpy.ndarray
        Integer state before the step, shape ``(..., size)`` (a leading batch
        axis is allowed).
    a_in : numpy.ndarray
        This step's synaptic input (Lava ``a_in``: the sum of the incoming
        projections' shifted weights, before ``<< 6``), same shape.
    refractory_count : numpy.ndarray
        Steps each neuron is still held (0: integrating). A neuron that spikes
        at step ``t`` gets ``refractory`` and is held at steps
        ``t+1 .. t+refractory`` -- Lava's ``refractory_period_end < time_step``
        rule with ``refractory_period_end - time_step`` counted down.
    pop : CompiledPopulation
        An EIF population: ``du``, ``dv``, ``vth``, ``bias_mant``,
        ``bias_exp``, ``refractory`` and the ``params`` of :func:`eif_params`.

    Returns
    -------
    u, v : numpy.ndarray
        New state (int64), ``v`` after reset.
    spikes : numpy.ndarray of bool
    refractory_count : numpy.ndarray
        New counts (int64).

    Raises
    ------
    BackendError
        If the population's EIF parameters are missing or out of range.
    """
    params = _program(pop)
    bias_mant = np.asarray(pop.bias_mant, dtype=np.int64)
    bias = bias_mant << pop.bias_exp if pop.bias_exp >= 0 else bias_mant >> -pop.bias_exp
    v = np.asarray(v, dtype=np.int64)
    count = np.asarray(refractory_count, dtype=np.int64)
    u_new = lif_current(u, a_in, pop.du)
    v_new = lif_voltage(v, u_new, bias, pop.dv, eif_exp(v, params))
    held = count > 0
    v_new = np.where(held, v, v_new)
    count = np.where(held, count - 1, count)
    spikes = v_new > (np.int64(pop.vth) << VTH_SHIFT)
    v_new = np.where(spikes, np.int64(params["eif_v_reset"]), v_new)
    count = np.where(spikes, np.int64(pop.refractory), count)
    return u_new, v_new, spikes, count

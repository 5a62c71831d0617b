"""The EIF neuron program as Brian2 integer code (Loihi-exact mode).

An independent Brian2 implementation of the EIF program of docs/backends.md
("The EIF neuron program"; the specification is :mod:`yuragi.fixedpoint.eif`,
which this module does not call). An EIF population is a LIF ``NeuronGroup``
of :mod:`.exact` (same ``u`` update, same clipped ``v`` update, same
refractory mechanism) with one more term in the voltage update, computed in
the ``groups`` slot from the voltage *before* the update::

    y = ((v - eif_v0) * eif_k) // 2**eif_k_shift     (floor = arithmetic shift)
    n = y // 2**F,   f = y % 2**F                     (F = eif_frac_bits)
    T = table(f)                                      (M = eif_table_bits)
    E = 2**23 - 1                       where n >= 23
        clip(T * 2**(n - M), 0, 2**23 - 1)  where M <= n < 23
        T // 2**(M - n)                 where n < M (the exponent clipped to M + 1: T < 2**(M+1))
    v_new = clip(decayed v + u + bias + E, -(2**23 - 1), 2**23 - 1)

and a spiking neuron is reset to ``eif_v_reset`` (not 0). Brian2 code has no
``if``: the three cases are summed with ``int(condition)`` weights. Every
intermediate value is an ``int64`` below ``2**48`` (``|v - eif_v0| < 2**32``
times the 16-bit ``eif_k``); the variable shifts are ``2**clip(...)`` of an
integer exponent in ``[0, 23]``.

The table ``T[f] = floor(2**M * 2**((f + 1/2) / 2**F) + 1/2)`` (bin centres,
halves up) is built here in float64 -- not with the specification's decimal
arithmetic; tests/test_fixedpoint_eif.py shows the two are identical, and
:func:`table` refuses a table with an entry within ``1e-6`` of a rounding
boundary -- and handed to Brian2 as a :class:`~brian2.core.functions.Function`
``eif_table_<F>_<M>(f)`` with a numpy implementation that indexes the array
(the only non-Brian2-code part, a memory read).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import BackendError

#: The kind-specific integers an EIF population needs (``CompiledPopulation.params``).
PARAM_NAMES = ("eif_frac_bits", "eif_k", "eif_k_shift", "eif_table_bits", "eif_v0", "eif_v_reset")
#: 24-bit state: ``v`` is clipped to ``+-V_LIMIT``; ``E`` saturates at ``V_LIMIT`` once ``n >= N_SATURATE``.
V_LIMIT = (1 << 23) - 1
N_SATURATE = 23
VTH_SHIFT = 6
#: Closest a float64 table entry may come to a rounding boundary (``x.5``).
TABLE_MARGIN = 1e-6


def problems(pop: Any) -> list[str]:
    """What is wrong with an EIF population's integers for this mode (empty list: nothing)."""
    where = f"population '{pop.name}'"
    params = dict(pop.params)
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        return [f"{where}: EIF needs the integer parameter(s) {', '.join(missing)} in CompiledPopulation.params "
                f"(compile the network with yuragi's compiler)"]
    F, M, k, s = params["eif_frac_bits"], params["eif_table_bits"], params["eif_k"], params["eif_k_shift"]
    v0, v_reset = params["eif_v0"], params["eif_v_reset"]
    ok = (0 <= F <= 12 and 1 <= M <= 22 and 0 < k < 1 << 16 and 0 <= s <= 62
          and -(1 << 31) <= v0 <= 1 << 23 and -V_LIMIT <= v_reset < int(pop.vth) << VTH_SHIFT)
    if not ok:
        return [f"{where}: EIF parameters out of range ({', '.join(f'{n}={params[n]}' for n in PARAM_NAMES)}; allowed: "
                f"eif_frac_bits 0..12, eif_table_bits 1..22, 0 < eif_k < 2**16, eif_k_shift 0..62, "
                f"eif_v0 in [-2**31, 2**23], -(2**23-1) <= eif_v_reset < vth << 6)"]
    return []


@lru_cache(maxsize=16)
def table(frac_bits: int, table_bits: int) -> np.ndarray:
    """``floor(2**M * 2**((f + 1/2) / 2**F) + 1/2)`` for ``f < 2**F``, in float64 (int64, read-only).

    Raises
    ------
    BackendError
        If an entry is within ``TABLE_MARGIN`` of a rounding boundary (float64
        could then round it differently from exact arithmetic).
    """
    f = np.arange(1 << frac_bits, dtype=np.float64)
    exact = 2.0 ** (table_bits + (f + 0.5) / float(1 << frac_bits))
    if np.abs(exact - np.floor(exact) - 0.5).min() < TABLE_MARGIN:
        raise BackendError(f"brian2 backend: the EIF table for eif_frac_bits={frac_bits}, eif_table_bits={table_bits} "
                           f"has an entry too close to a rounding boundary for float64")
    out = np.floor(exact + 0.5).astype(np.int64)
    out.setflags(write=False)
    return out


def table_name(frac_bits: int, table_bits: int) -> str:
    """Name of the table function in Brian2 code."""
    return f"eif_table_{int(frac_bits)}_{int(table_bits)}"


def table_function(b2: Any, frac_bits: int, table_bits: int) -> Any:
    """The Brian2 ``Function`` ``eif_table_<F>_<M>(f)`` -> int64 table entry (numpy implementation)."""
    values = table(int(frac_bits), int(table_bits))

    def lookup(f: Any) -> np.ndarray:
        return values[np.asarray(f, dtype=np.int64)]

    function = b2.Function(lookup, arg_units=[1], return_unit=1, arg_types=["integer"], return_type="integer",
                           stateless=True, auto_vectorise=False)
    function.implementations.add_numpy_implementation(lookup, discard_units=True)
    return function


def namespace(b2: Any, pop: Any) -> dict[str, Any]:
    """The namespace of an EIF population's objects (its table function)."""
    F, M = pop.param("eif_frac_bits"), pop.param("eif_table_bits")
    return {table_name(F, M): table_function(b2, F, M)}


def exp_code(pop: Any, v: str = "v", out: str = "eif_e") -> list[str]:
    """Lines computing the exponential term ``out`` from the voltage ``v`` (before its update)."""
    p = dict(pop.params)
    F, M = int(p["eif_frac_bits"]), int(p["eif_table_bits"])
    up_max = max(N_SATURATE - M, 0)
    return [
        f"eif_y = (({v} - ({int(p['eif_v0'])})) * {int(p['eif_k'])}) // {1 << int(p['eif_k_shift'])}",
        f"eif_n = eif_y // {1 << F}",
        f"eif_t = {table_name(F, M)}(eif_y % {1 << F})",
        f"eif_up = clip(eif_t * 2**clip(eif_n - {M}, 0, {up_max}), 0, {V_LIMIT})",
        f"eif_down = eif_t // 2**clip({M} - eif_n, 0, {M + 1})",
        f"{out} = int(eif_n >= {N_SATURATE}) * {V_LIMIT} + int(eif_n < {N_SATURATE}) * (int(eif_n >= {M}) * eif_up + int(eif_n < {M}) * eif_down)",
    ]


def reset_code(pop: Any) -> str:
    """The reset of a spiking EIF neuron: ``v = eif_v_reset``."""
    return f"v = {int(pop.param('eif_v_reset'))}"

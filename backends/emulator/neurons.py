"""Neuron kinds of the emulator's general step engine: one step function per kind.

Each neuron population of a network run by the general engine
(:mod:`.general`) holds a :class:`NeuronState`; every step the engine calls
its kind's step function with the summed synaptic input of the step and gets
the spikes back. :data:`NEURON_KINDS` maps a kind name
(:attr:`CompiledPopulation.kind`) to its :class:`NeuronKind`; plugging in a
new kind takes a step function and one entry (a step function updates
``state.u`` / ``state.v`` / ``state.extra`` / ``state.refr_end`` and returns
the bool spikes of the step; ``check`` can vet the population's integers up
front).

The LIF step is the numpy engine's own update (:func:`.kernels.lif_current`,
:func:`.kernels.lif_voltage`); StochasticBinary uses the reference
arithmetic of :mod:`yuragi.fixedpoint.stochastic`; EIF is the neuron program
:func:`yuragi.fixedpoint.eif.eif_step`. Its refractory countdown is derived
from the engine's ``refr_end`` (the last row of a neuron's refractory period,
as for LIF): before row ``r`` the count is ``max(refr_end - (r - 1), 0)``,
and after the step ``refr_end = r + count``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...errors import BackendError
from ...fixedpoint import probability7, stochastic_binary_spikes
from ...fixedpoint.eif import eif_step
from .kernels import lif_current, lif_voltage
from .program import neuron_constants


@dataclass
class NeuronState:
    """Mutable state of one neuron population in the general engine.

    Parameters
    ----------
    pop : CompiledPopulation
        The population (read its kind-specific integers with ``pop.param``).
    index : int
        Index of the population in ``CompiledNetwork.populations`` (its RNG stream).
    const : dict of str to numpy.ndarray
        Per-neuron integers from :func:`.program.neuron_constants` (``u_keep``,
        ``v_keep``, ``bias``, ``vth``, ``refractory``, ...) plus whatever the
        kind's ``init`` adds.
    u, v : numpy.ndarray
        Integer current and voltage (int64 holding Lava's int32 values).
    refr_end : numpy.ndarray
        Last step (absolute row) of each neuron's refractory period, ``-1`` for none.
    extra : dict of str to numpy.ndarray
        Kind-specific state (StochasticBinary: ``x``, the drive of the last step).
    """

    pop: Any
    index: int
    const: dict[str, np.ndarray]
    u: np.ndarray
    v: np.ndarray
    refr_end: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def copy(self) -> NeuronState:
        """An independent copy (constants shared, state arrays copied)."""
        return NeuronState(self.pop, self.index, self.const, self.u.copy(), self.v.copy(), self.refr_end.copy(),
                           {k: v.copy() for k, v in self.extra.items()})


#: ``step(state, a_sum, row, seed) -> spikes``: advance the population by step ``row`` (absolute) with the
#: summed synaptic input ``a_sum`` (int64, ``(size,)``, before the ``<< 6``); return bool spikes ``(size,)``.
NeuronStep = Callable[[NeuronState, np.ndarray, int, int], np.ndarray]


@dataclass(frozen=True)
class NeuronKind:
    """How the general engine runs one neuron kind.

    Parameters
    ----------
    step : NeuronStep
        The per-step update.
    check : callable, optional
        ``check(pop) -> problem or None``: what is wrong with the population's
        integers (the engine raises a BackendError naming the population).
    init : callable, optional
        ``init(state) -> None``: fill ``state.const`` / ``state.extra`` beyond the LIF integers.
    probability7 : callable, optional
        ``probability7(state) -> int64 (size,)``: the 7-bit firing probability of
        the last step, for plasticity programs with ``post_factor='probability'``.
    """

    step: NeuronStep
    check: Callable[[Any], str | None] | None = None
    init: Callable[[NeuronState], None] | None = None
    probability7: Callable[[NeuronState], np.ndarray] | None = None


def lif_step(state: NeuronState, a_sum: np.ndarray, row: int, seed: int) -> np.ndarray:
    """Lava's bit-accurate LIF (with refractory period), as the numpy engine runs it."""
    c = state.const
    state.u = lif_current(state.u, a_sum, c["u_keep"])
    state.v, state.refr_end, spiked = lif_voltage(state.u, state.v, state.refr_end, row, c["v_keep"], c["bias"], c["vth"], c["refractory"])
    return spiked


def _sb_check(pop: Any) -> str | None:
    width = dict(pop.params).get("noise_width")
    if width is None or not 2 <= width <= 1 << 31:
        return f"StochasticBinary needs the integer parameter 'noise_width' in [2, 2**31] (CompiledPopulation.params), got {width!r}"
    return None


def _sb_init(state: NeuronState) -> None:
    state.v = np.zeros(state.pop.size, dtype=np.int64)  # no voltage: probe 'v' records 0
    state.extra["x"] = np.zeros(state.pop.size, dtype=np.int64)


def stochastic_binary_step(state: NeuronState, a_sum: np.ndarray, row: int, seed: int) -> np.ndarray:
    """u as the LIF current, ``x = u + bias``, spikes from :func:`yuragi.fixedpoint.stochastic_binary_spikes`."""
    state.u = lif_current(state.u, a_sum, state.const["u_keep"])
    x = state.u + state.const["bias"]
    state.extra["x"] = x
    return stochastic_binary_spikes(x, state.pop.param("noise_width"), seed, state.index, row)


def _sb_probability7(state: NeuronState) -> np.ndarray:
    return probability7(state.extra["x"], state.pop.param("noise_width"))


def _eif_check(pop: Any) -> str | None:
    """The EIF program's own validation of the population's integers (one dry step from zero state)."""
    zero = np.zeros(pop.size, dtype=np.int64)
    try:
        eif_step(zero, zero, zero, zero, pop)
    except BackendError as exc:
        message = str(exc)
        prefix = f"population '{pop.name}': "
        return message[len(prefix):] if message.startswith(prefix) else message
    return None


def eif_neuron_step(state: NeuronState, a_sum: np.ndarray, row: int, seed: int) -> np.ndarray:
    """The EIF neuron program (:func:`yuragi.fixedpoint.eif.eif_step`), refractory count from ``refr_end``."""
    count = np.maximum(state.refr_end - (row - 1), 0)
    state.u, state.v, spikes, count = eif_step(state.u, state.v, a_sum, count, state.pop)
    state.refr_end = np.where(count > 0, row + count, state.refr_end)
    return spikes


#: Neuron kind -> how to run it. Kinds not listed raise a BackendError naming the population.
NEURON_KINDS: dict[str, NeuronKind] = {
    "LIF": NeuronKind(lif_step),
    "StochasticBinary": NeuronKind(stochastic_binary_step, check=_sb_check, init=_sb_init, probability7=_sb_probability7),
    "EIF": NeuronKind(eif_neuron_step, check=_eif_check),
}


def new_state(pop: Any, index: int) -> NeuronState:
    """Initial state of a neuron population (``u = u_init``, ``v = v_init``, not refractory)."""
    const = neuron_constants(pop)
    state = NeuronState(pop, index, const, const["u_init"].copy(), const["v_init"].copy(), np.full(pop.size, -1, dtype=np.int64))
    kind = NEURON_KINDS[pop.kind]
    if kind.init is not None:
        kind.init(state)
    return state

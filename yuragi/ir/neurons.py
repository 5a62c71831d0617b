"""Neuron models of the IR: one frozen dataclass per model.

Units (see docs/ir.md): time constants in ms, voltages in mV, currents ``u``
and ``bias`` in mV/ms (the rate they add to ``v``), refractory periods in
integer steps. The discrete-time semantics with step ``dt`` (ms) of a
population of :class:`LIF` neurons is the current-based LIF of Loihi
(Davies et al. 2018, Eq. 1-2), integrated once per step::

    u[t] = u[t-1] * (1 - dt/tau_syn) + sum_j w_ij s_j[t-1]     (w in mV/ms)
    v[t] = v[t-1] * (1 - dt/tau_mem) + dt * (u[t] + bias)
    spike when v[t] > v_th; then v = v_reset, held there for `refractory` steps

``tau = math.inf`` means no decay. Models check their own parameters with
:meth:`problems`, which returns one line per problem naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from ._arrays import dataclass_equal, frozen_array


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_tau(name: str, value: Any) -> list[str]:
    if not _is_number(value) or math.isnan(value) or value <= 0:
        return [f"field '{name}' must be a time constant > 0 ms (math.inf for no decay), got {value!r}"]
    return []


def _check_finite(name: str, value: Any) -> list[str]:
    if not _is_number(value) or not math.isfinite(value):
        return [f"field '{name}' must be a finite number, got {value!r}"]
    return []


def _check_steps(name: str, value: Any) -> list[str]:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        return [f"field '{name}' must be an integer number of steps >= 0, got {value!r}"]
    return []


@dataclass(frozen=True)
class LIF:
    """Current-based leaky integrate-and-fire neuron (Loihi CUBA LIF).

    Parameters
    ----------
    tau_mem : float
        Membrane time constant, ms.
    tau_syn : float
        Synaptic current time constant, ms.
    v_th : float
        Firing threshold, mV (> 0: rest is 0 mV).
    v_reset : float
        Reset potential after a spike, mV. Loihi resets to 0 only.
    bias : float
        Constant input current, mV/ms.
    refractory : int
        Steps the membrane is held at ``v_reset`` after a spike.
    """

    KIND: ClassVar[str] = "LIF"
    tau_mem: float = 20.0
    tau_syn: float = 5.0
    v_th: float = 10.0
    v_reset: float = 0.0
    bias: float = 0.0
    refractory: int = 0

    def problems(self) -> list[str]:
        out = _check_tau("tau_mem", self.tau_mem) + _check_tau("tau_syn", self.tau_syn)
        out += _check_finite("v_th", self.v_th) + _check_finite("v_reset", self.v_reset)
        out += _check_finite("bias", self.bias) + _check_steps("refractory", self.refractory)
        if not out and self.v_th <= 0:
            out.append(f"field 'v_th' must be > 0 mV (rest is 0 mV), got {self.v_th!r}")
        if not out and self.v_reset >= self.v_th:
            out.append(f"field 'v_reset' must be below v_th={self.v_th}, got {self.v_reset!r}")
        return out


@dataclass(frozen=True)
class EIF:
    """Exponential integrate-and-fire neuron (Fourcaud-Trocmé et al. 2003).

    ``dv/dt = (-v + delta_T * exp((v - v_T) / delta_T)) / tau_mem + u + bias``,
    with ``u`` filtered as in :class:`LIF`; a spike is emitted when ``v``
    exceeds ``v_th`` (the numerical spike cut-off, above ``v_T``).

    Parameters
    ----------
    tau_mem, tau_syn : float
        Time constants, ms.
    delta_T : float
        Slope factor of the exponential spike initiation, mV (> 0).
    v_T : float
        Soft threshold (exponential term's midpoint), mV.
    v_th : float
        Spike cut-off, mV (> v_T).
    v_reset : float
        Reset potential, mV.
    bias : float
        Constant input current, mV/ms.
    refractory : int
        Refractory period, steps.
    """

    KIND: ClassVar[str] = "EIF"
    tau_mem: float = 20.0
    tau_syn: float = 5.0
    delta_T: float = 2.0
    v_T: float = 10.0
    v_th: float = 20.0
    v_reset: float = 0.0
    bias: float = 0.0
    refractory: int = 0

    def problems(self) -> list[str]:
        out = _check_tau("tau_mem", self.tau_mem) + _check_tau("tau_syn", self.tau_syn)
        for name in ("delta_T", "v_T", "v_th", "v_reset", "bias"):
            out += _check_finite(name, getattr(self, name))
        out += _check_steps("refractory", self.refractory)
        if not out:
            if self.delta_T <= 0:
                out.append(f"field 'delta_T' must be > 0 mV, got {self.delta_T!r}")
            if self.v_th <= self.v_T:
                out.append(f"field 'v_th' (spike cut-off) must be above v_T={self.v_T}, got {self.v_th!r}")
            if self.v_reset >= self.v_th:
                out.append(f"field 'v_reset' must be below v_th={self.v_th}, got {self.v_reset!r}")
        return out


@dataclass(frozen=True)
class StochasticBinary:
    """Stochastic binary (Gibbs) neuron.

    Each step the neuron spikes with probability ``sigmoid((h + bias) / temperature)``
    where ``h = sum_j w_ij s_j[t-1]`` is its input from the previous step
    (dimensionless). No membrane memory.

    Parameters
    ----------
    temperature : float
        Sampling temperature (> 0), dimensionless.
    bias : float
        Constant input, dimensionless.
    clamp : str or None
        Name of an input population of the same size whose spikes of step
        ``t`` replace the neuron's own sample at step ``t`` (a clamped, or
        visible, unit: teacher-student training, the training phase of a
        dual sampling network). Its firing probability -- what
        ``post_factor='probability'`` learning reads -- still comes from its
        own input ``h``. None: the neuron samples freely.
    """

    KIND: ClassVar[str] = "StochasticBinary"
    temperature: float = 1.0
    bias: float = 0.0
    clamp: str | None = None

    def problems(self) -> list[str]:
        out = _check_finite("temperature", self.temperature) + _check_finite("bias", self.bias)
        if not out and self.temperature <= 0:
            out.append(f"field 'temperature' must be > 0, got {self.temperature!r}")
        if self.clamp is not None and (not isinstance(self.clamp, str) or not self.clamp):
            out.append(f"field 'clamp' must be the name of an input population or None, got {self.clamp!r}")
        return out


# ----------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class PoissonInput:
    """Independent Poisson spike sources.

    Parameters
    ----------
    rate_hz : numpy.ndarray
        Rate per neuron, Hz (shape ``(size,)``, or ``(1,)`` for all). The
        spike probability per step is ``rate_hz * dt / 1000`` (must be <= 1).
    """

    KIND: ClassVar[str] = "PoissonInput"
    rate_hz: np.ndarray = field(default_factory=lambda: frozen_array([10.0], np.float64))

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_hz", frozen_array(np.atleast_1d(self.rate_hz), np.float64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def problems(self, size: int = 0, dt: float = 1.0) -> list[str]:
        r = self.rate_hz
        if r.ndim != 1 or r.shape[0] not in (1, size):
            return [f"field 'rate_hz' must have shape (1,) or ({size},), got {r.shape}"]
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            return ["field 'rate_hz' must hold finite rates >= 0 Hz"]
        if np.any(r > 1000.0 / dt):
            return [f"field 'rate_hz' gives a spike probability > 1 per step at dt={dt} ms (max {1000.0 / dt:g} Hz)"]
        return []


@dataclass(frozen=True, eq=False)
class SpikeTimesInput:
    """Spikes at given steps: neuron ``indices[k]`` fires at step ``steps[k]``."""

    KIND: ClassVar[str] = "SpikeTimesInput"
    steps: np.ndarray = field(default_factory=lambda: frozen_array([], np.int64))
    indices: np.ndarray = field(default_factory=lambda: frozen_array([], np.int64))

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", frozen_array(np.atleast_1d(self.steps), np.int64))
        object.__setattr__(self, "indices", frozen_array(np.atleast_1d(self.indices), np.int64))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def problems(self, size: int = 0, dt: float = 1.0) -> list[str]:
        if self.steps.ndim != 1 or self.steps.shape != self.indices.shape:
            return [f"fields 'steps' {self.steps.shape} and 'indices' {self.indices.shape} must be 1-D of equal length"]
        out = []
        if self.steps.size and self.steps.min() < 0:
            out.append("field 'steps' must be >= 0")
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= size):
            out.append(f"field 'indices' must lie in [0, {size - 1}]")
        return out


@dataclass(frozen=True, eq=False)
class RasterInput:
    """An explicit spike raster ``raster[step, neuron]`` (bool); repeats after its end if ``loop``."""

    KIND: ClassVar[str] = "RasterInput"
    raster: np.ndarray = field(default_factory=lambda: frozen_array(np.zeros((1, 1)), np.bool_))
    loop: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "raster", frozen_array(self.raster, np.bool_))

    def __eq__(self, other: object) -> bool:
        return dataclass_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def problems(self, size: int = 0, dt: float = 1.0) -> list[str]:
        if self.raster.ndim != 2 or self.raster.shape[1] != size:
            return [f"field 'raster' must have shape (steps, {size}), got {self.raster.shape}"]
        if not isinstance(self.loop, bool):
            return [f"field 'loop' must be true or false, got {self.loop!r}"]
        return []


@dataclass(frozen=True)
class ExternalInput:
    """Spikes supplied at run time (``yuragi run --input FILE``)."""

    KIND: ClassVar[str] = "ExternalInput"

    def problems(self, size: int = 0, dt: float = 1.0) -> list[str]:
        return []


NeuronModel = LIF | EIF | StochasticBinary
InputModel = PoissonInput | SpikeTimesInput | RasterInput | ExternalInput
Model = NeuronModel | InputModel

NEURON_MODELS: dict[str, type] = {cls.KIND: cls for cls in (LIF, EIF, StochasticBinary)}
INPUT_MODELS: dict[str, type] = {
    cls.KIND: cls for cls in (PoissonInput, SpikeTimesInput, RasterInput, ExternalInput)
}
ALL_MODELS: dict[str, type] = {**NEURON_MODELS, **INPUT_MODELS}


def is_input(model: object) -> bool:
    """True when ``model`` is one of the input (spike source) models."""
    return type(model) in INPUT_MODELS.values()


def model_fields(model_type: type) -> list[str]:
    """Names of a model class's parameters, in declaration order."""
    return [f.name for f in fields(model_type)]

"""Lava processes for yuragi's stochastic elements: StochasticBinary neurons and stochastic release.

Lava 0.10.0 has no neuron that fires with a probability set by its input, and
no connection whose synapses fail. These two Processes (the *what*) and their
bit-accurate ProcessModels (the *how*, ``select_tag="fixed_pt"``) add them,
with the arithmetic and the counter-based random numbers of
:mod:`yuragi.fixedpoint.stochastic` (docs/backends.md, "Stochastic elements"):

- :class:`StochasticBinary` -> :class:`PyStochasticBinaryModelBitAcc`. Its
  current ``u`` is Lava's LIF current, computed by Lava's own
  ``AbstractPyLifModelFixed.subthr_dynamics`` (decay ``du``, ``a_in << 6``,
  24-bit wrap); with ``x = u + (bias_mant << bias_exp)`` it spikes at time
  step ``T`` where ``stochastic_binary_spikes(x, noise_width, seed,
  pop_index, T - 1)`` says so. It has no voltage (``v`` stays 0) and no
  refractory period. Besides ``s_out`` it sends, every step, its 7-bit firing
  probability ``probability7(x, noise_width)`` on ``y1`` (the post factor of
  ``post_factor='probability'`` learning, Lava's ``s_out_y1`` of
  ``LearningLIF``), and (spikes, u, v) on ``state_out`` for probes. A
  *clamped* population (``clamped=True``) receives its clamp input's spikes
  of the same step on ``clamp_in`` and sends those instead of its samples
  (it still draws, and its ``y1`` is still its own probability).
- :class:`ReleaseConnection` -> :class:`PyReleaseConnectionModelBitAcc`:
  synapses as coordinates with per-synapse delays (``DelayDense`` /
  ``DelaySparse`` semantics: per emission step and delay, the sum of the
  transmitting weights is shifted by ``weight_exp`` and delivered ``delay``
  steps later); synapse ``k`` transmits a presynaptic spike of time step
  ``T`` only where ``release_mask(release_prob, seed, proj_index, T - 1, k)``.

Both need Loihi 2 microcode on the chip (a per-neuron / per-synapse PRNG);
on ``Loihi2HwCfg`` these Python models run on the host.

Only absolute imports here (see :mod:`yuragi.backends.lava.processes`).
"""

from __future__ import annotations

import typing as ty

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed

from yuragi.fixedpoint.stochastic import probability7, release_mask, stochastic_binary_spikes

__all__ = [
    "STATE_ROWS",
    "PyReleaseConnectionModelBitAcc",
    "PyStochasticBinaryModelBitAcc",
    "ReleaseConnection",
    "StochasticBinary",
]

#: Rows of ``StochasticBinary.state_out`` (as :data:`yuragi.backends.lava.processes.STATE_ROWS`).
STATE_ROWS = ("s", "u", "v")


def shift_activation(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    """Lava Dense's ``acc << weight_exp`` (``>> -weight_exp`` when negative, arithmetic)."""
    return np.left_shift(acc, weight_exp) if weight_exp > 0 else np.right_shift(acc, -weight_exp)


class StochasticBinary(AbstractProcess):
    """A population of stochastic binary neurons (the Gibbs neuron of dual sampling networks).

    Parameters
    ----------
    shape : tuple of int
        ``(size,)``.
    u : int or numpy.ndarray
        Initial current (integer, 24-bit).
    du : int
        12-bit current decay (the compiler gives 4095: ``u = a_in << 6``).
    bias_mant, bias_exp : int or numpy.ndarray
        Bias mantissa (13-bit signed) and exponent (3-bit); ``x = u + (bias_mant << bias_exp)``.
    noise_width : int
        ``N`` of :func:`yuragi.fixedpoint.stochastic.stochastic_binary_spikes`, in x units.
    seed, pop_index : int
        Network seed and index of the population in the CompiledNetwork (RNG stream).
    clamped : bool
        The spikes are those received on ``clamp_in`` at the same step
        (``yuragi.fixedpoint.stochastic``, "Clamped StochasticBinary").
    name : str, optional
        Process name.

    Ports: ``a_in`` (input), ``clamp_in`` (the clamp input's spikes, read
    only when ``clamped``), ``s_out`` (spikes), ``y1`` (7-bit firing
    probability, every step), ``state_out`` (``(3, size)``: spikes, u, v = 0).
    """

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        noise_width: int,
        seed: int,
        pop_index: int,
        u: int | np.ndarray = 0,
        du: int = 4095,
        bias_mant: int | np.ndarray = 0,
        bias_exp: int | np.ndarray = 0,
        clamped: bool = False,
        name: ty.Optional[str] = None,
    ) -> None:
        super().__init__(shape=shape, clamped=bool(clamped), name=name)
        self.a_in = InPort(shape=shape)
        self.clamp_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.y1 = OutPort(shape=shape)
        self.state_out = OutPort(shape=(len(STATE_ROWS),) + tuple(shape))
        self.u = Var(shape=shape, init=u)
        self.v = Var(shape=shape, init=0)
        self.du = Var(shape=(1,), init=du)
        self.dv = Var(shape=(1,), init=0)
        self.bias_mant = Var(shape=shape, init=bias_mant)
        self.bias_exp = Var(shape=shape, init=bias_exp)
        self.noise_width = Var(shape=(1,), init=noise_width)
        self.seed = Var(shape=(1,), init=seed)
        self.pop_index = Var(shape=(1,), init=pop_index)


@implements(proc=StochasticBinary, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyStochasticBinaryModelBitAcc(AbstractPyLifModelFixed):
    """Bit-accurate StochasticBinary: Lava's LIF current, then :mod:`yuragi.fixedpoint.stochastic`."""

    clamp_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    y1: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=7)
    state_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    noise_width: int = LavaPyType(int, np.int64, precision=32)
    seed: int = LavaPyType(int, np.int64, precision=32)
    pop_index: int = LavaPyType(int, np.int64, precision=32)

    def run_spk(self) -> None:
        """One step at Lava time step ``T`` (row ``T - 1``)."""
        a_in = self.a_in.recv()
        self.scale_bias()
        self.subthr_dynamics(activation_in=a_in)  # Lava's u (and a v we do not keep)
        self.v[:] = 0
        x = self.u.astype(np.int64) + np.asarray(self.effective_bias, dtype=np.int64)
        width = int(self.noise_width)
        clamp = self.clamp_in.recv().astype(bool) if self.proc_params["clamped"] else None
        spikes = stochastic_binary_spikes(x, width, int(self.seed), int(self.pop_index), self.time_step - 1, clamp=clamp)
        self.s_out.send(spikes.astype(np.int32))
        self.y1.send(probability7(x, width).astype(np.int32))
        self.state_out.send(np.stack((spikes.astype(np.int32), self.u.astype(np.int32), self.v.astype(np.int32))))


class ReleaseConnection(AbstractProcess):
    """Synapses with stochastic release (transmission failure), as coordinates with per-synapse delays.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the pre- and postsynaptic populations.
    pre_idx, post_idx, weights, delays : numpy.ndarray
        One entry per synapse ``k`` (the CompiledProjection order, which the
        release draws index); integer weights, delays in steps >= 1.
    weight_exp : int
        Shift of each (emission step, delay) sum.
    release_prob : float
        Probability that a synapse transmits a presynaptic spike.
    seed, proj_index : int
        Network seed and index of the projection in the CompiledNetwork (RNG stream).
    name : str, optional
        Process name.
    """

    def __init__(
        self,
        *,
        n_pre: int,
        n_post: int,
        pre_idx: np.ndarray,
        post_idx: np.ndarray,
        weights: np.ndarray,
        delays: np.ndarray,
        weight_exp: int,
        release_prob: float,
        seed: int,
        proj_index: int,
        name: ty.Optional[str] = None,
    ) -> None:
        delays = np.asarray(delays, dtype=np.int64)
        nnz = int(delays.shape[0])
        max_delay = int(delays.max()) if nnz else 1
        super().__init__(weight_exp=int(weight_exp), release_prob=float(release_prob), name=name)
        self.s_in = InPort(shape=(n_pre,))
        self.a_out = OutPort(shape=(n_post,))
        self.pre_idx = Var(shape=(nnz,), init=np.asarray(pre_idx, dtype=np.int64))
        self.post_idx = Var(shape=(nnz,), init=np.asarray(post_idx, dtype=np.int64))
        self.weights = Var(shape=(nnz,), init=np.asarray(weights, dtype=np.int64))
        self.delays = Var(shape=(nnz,), init=delays)
        self.a_buff = Var(shape=(n_post, max_delay), init=0)
        self.seed = Var(shape=(1,), init=seed)
        self.proj_index = Var(shape=(1,), init=proj_index)


@implements(proc=ReleaseConnection, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyReleaseConnectionModelBitAcc(PyLoihiProcessModel):
    """Bit-accurate stochastic release with ``DelayDense`` timing and per-(step, delay) shift.

    At time step ``T``: send ``a_buff[:, 0]`` (what is due now), shift the
    buffer by one step, then add this step's spikes: for each delay ``d``,
    ``shift(sum of the weights of the transmitting synapses with delay d)``
    into column ``d - 1`` (sent at ``T + d``).
    """

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    pre_idx: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    post_idx: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    weights: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=9)
    delays: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    seed: int = LavaPyType(int, np.int64, precision=32)
    proj_index: int = LavaPyType(int, np.int64, precision=32)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.weight_exp = int(proc_params["weight_exp"])
        self.release_prob = float(proc_params["release_prob"])
        self._by_pre: list[np.ndarray] | None = None

    def _synapses_of(self, spiking: np.ndarray) -> np.ndarray:
        if self._by_pre is None:  # Vars hold their values only once the model runs
            order = np.argsort(self.pre_idx, kind="stable")
            counts = np.bincount(self.pre_idx, minlength=spiking.shape[0])
            self._by_pre = np.split(order, np.cumsum(counts)[:-1])
        parts = [self._by_pre[j] for j in np.flatnonzero(spiking)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def run_spk(self) -> None:
        """One step at Lava time step ``T`` (release draws of row ``T - 1``)."""
        self.a_out.send(self.a_buff[:, 0])
        self.a_buff[:, 0] = 0
        self.a_buff = np.roll(self.a_buff, -1, axis=1)
        spiking = self.s_in.recv().astype(bool)
        if not spiking.any():
            return
        syn = self._synapses_of(spiking)
        syn = syn[release_mask(self.release_prob, int(self.seed), int(self.proj_index), self.time_step - 1, syn)]
        n_post = self.a_buff.shape[0]
        for delay in np.unique(self.delays[syn]):
            group = syn[self.delays[syn] == delay]
            acc = np.zeros(n_post, dtype=np.int64)
            np.add.at(acc, self.post_idx[group], self.weights[group])
            self.a_buff[:, delay - 1] += shift_activation(acc, self.weight_exp)

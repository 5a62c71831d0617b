"""yuragi's own Lava processes: a bit-accurate refractory LIF, and LIFs that stream u/v.

Lava 0.10.0 has ``LIFRefractory`` (``lava/proc/lif/process.py``) but only a
floating-point model for it (``PyLifRefractoryModelFloat``). This module keeps
Lava's Process / ProcessModel split and adds the missing fixed-point model:

- :class:`LIFRefractoryBitAcc` (the *what*): Lava's ``LIFRefractory`` Process,
  unchanged (same Vars: ``u``, ``v``, ``du``, ``dv``, ``bias_mant``,
  ``bias_exp``, ``vth``, ``refractory_period_end``; ``proc_params
  ["refractory_period"]``), subclassed only so that Lava's model lookup (which
  matches the exact Process type) finds the model below.
- :class:`PyLifRefractoryModelBitAcc` (the *how*): the integer arithmetic of
  ``AbstractPyLifModelFixed`` (shared with ``PyLifModelBitAcc``) plus the
  refractory logic of ``PyLifRefractoryModelFloat`` in integers.

Semantics (docs/backends.md, steps 2-4): ``u`` is updated every step, exactly
as in ``PyLifModelBitAcc``; ``v`` is updated only for neurons that are not
refractory; a neuron spiking at Lava time step ``T`` has ``v = 0`` and
``refractory_period_end = T + refractory_period``, so ``v`` stays 0 (is not
updated) at time steps ``T+1 ... T+refractory_period`` and integrates again
from ``T+refractory_period+1`` on — the ``refractory_period_end < time_step``
test of ``PyLifRefractoryModelFloat``.

On hardware this neuron needs Loihi 2 microcode; Loihi2HwCfg falls back to
this Python model when lava-loihi has no NeuroCore model for it.

:class:`ProbedLIF` / :class:`ProbedLIFRefractoryBitAcc` (models
``PyProbedLifModelBitAcc`` / ``PyProbedLifRefractoryModelBitAcc``) are the
same neurons with one more OutPort that sends (spikes, u, v) after every step,
used for populations whose u or v is probed (see "state probes" below).

Only absolute imports here: Lava's ProcessModel discovery re-executes every
module file in the directory of a Process's module under a bare name
(``lava/magma/compiler/compiler_graphs.py``, ``_find_proc_models``).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed
from lava.proc.lif.process import LIF, LIFRefractory

__all__ = [
    "STATE_ROWS",
    "LIFRefractoryBitAcc",
    "ProbedLIF",
    "ProbedLIFRefractoryBitAcc",
    "PyLifRefractoryModelBitAcc",
    "PyProbedLifModelBitAcc",
    "PyProbedLifRefractoryModelBitAcc",
]


class LIFRefractoryBitAcc(LIFRefractory):
    """Lava's ``LIFRefractory`` Process, to be run with yuragi's bit-accurate model.

    Parameters are those of ``lava.proc.lif.process.LIFRefractory`` (integers:
    ``du``, ``dv`` 12-bit, ``vth`` 17-bit mantissa, ``bias_mant`` 13-bit,
    ``bias_exp`` 3-bit, ``refractory_period`` >= 1 steps).
    """


class _AbstractPyLifModelBitAcc(AbstractPyLifModelFixed):
    """Threshold and spike of Lava's ``PyLifModelBitAcc``, verbatim.

    Lava's ``@implements`` refuses a subclass of a model that already implements
    a Process, so our models cannot derive from ``PyLifModelBitAcc`` itself; its
    two methods (``vth << 6``; spike when ``v > vth << 6``) are repeated here.
    """

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)

    def __init__(self, proc_params):  # noqa: ANN001 (Lava's signature)
        super().__init__(proc_params)
        self.effective_vth = 0

    def scale_threshold(self) -> None:
        """``vth << 6``."""
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def spiking_activation(self) -> np.ndarray:
        """Spike when ``v > vth << 6``."""
        return self.v > self.effective_vth


class _AbstractPyLifRefractoryModelBitAcc(_AbstractPyLifModelBitAcc):
    """Bit-accurate LIF with refractory period (integer twin of ``PyLifRefractoryModelFloat``)."""

    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=32)

    def __init__(self, proc_params):  # noqa: ANN001
        super().__init__(proc_params)
        self.refractory_period = int(proc_params["refractory_period"])

    def subthr_dynamics(self, activation_in: np.ndarray) -> None:
        """Lava's integer u/v update for everyone, then refractory neurons get their held ``v`` back.

        Re-using the parent's arithmetic keeps ``u`` (decay, ``a_in << 6``,
        24-bit wrap) and the ``v`` of non-refractory neurons bit-identical to
        ``PyLifModelBitAcc``; a refractory neuron's ``v`` (0 since its spike)
        is simply not updated (``refractory_period_end >= time_step``).
        """
        refractory = self.refractory_period_end >= self.time_step
        held = self.v[refractory].copy()
        super().subthr_dynamics(activation_in)
        self.v[refractory] = held

    def reset_voltage(self, spike_vector: np.ndarray) -> None:
        """``v = 0`` for spiking neurons, which stay refractory for ``refractory_period`` steps."""
        self.refractory_period_end[spike_vector] = self.time_step + self.refractory_period
        self.v[spike_vector] = 0


@implements(proc=LIFRefractoryBitAcc, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyLifRefractoryModelBitAcc(_AbstractPyLifRefractoryModelBitAcc):
    """Bit-accurate LIF with refractory period (integer twin of ``PyLifRefractoryModelFloat``)."""


# ------------------------------------------------------------ state probes
# Recording u/v with Lava's Monitor, sink.Read or extractor.VarWire costs a
# whole extra phase per time step: their RefPorts are read in POST_MGMT, and the
# runtime service then sends that phase to *every* process. A probed population
# instead sends (spikes, u, v) through one extra OutPort ``state_out`` in the
# spiking phase, after Lava's own update, to one recorder (no extra phase, one
# recorder instead of three). The neuron arithmetic is inherited unchanged.

#: Rows of ``state_out``.
STATE_ROWS = ("s", "u", "v")


class ProbedLIF(LIF):
    """Lava's ``LIF`` plus an OutPort ``state_out`` of shape ``(3,) + shape``: spikes, u, v after each step."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003 (LIF's keyword arguments)
        super().__init__(**kwargs)
        self.state_out = OutPort(shape=(len(STATE_ROWS),) + self.u.shape)


class ProbedLIFRefractoryBitAcc(LIFRefractoryBitAcc):
    """:class:`LIFRefractoryBitAcc` plus the OutPort ``state_out`` of :class:`ProbedLIF`."""

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.state_out = OutPort(shape=(len(STATE_ROWS),) + self.u.shape)


class _SendState:
    """After the step, send (spikes, u, v) as int32 rows."""

    state_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)

    def run_spk(self) -> None:
        super().run_spk()  # type: ignore[misc]
        self.state_out.send(np.stack((self.s_out_buff, self.u, self.v)).astype(np.int32))  # type: ignore[attr-defined]


@implements(proc=ProbedLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyProbedLifModelBitAcc(_SendState, _AbstractPyLifModelBitAcc):
    """Lava's ``PyLifModelBitAcc`` arithmetic, then (spikes, u, v) sent out."""


@implements(proc=ProbedLIFRefractoryBitAcc, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyProbedLifRefractoryModelBitAcc(_SendState, _AbstractPyLifRefractoryModelBitAcc):
    """:class:`PyLifRefractoryModelBitAcc`, then (spikes, u, v) sent out."""

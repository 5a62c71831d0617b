"""A Lava process for yuragi's EIF neuron program (exponential integrate-and-fire on Loihi 2).

Lava 0.10.0 has no exponential integrate-and-fire neuron. :class:`EIF` (the
*what*) and its bit-accurate ProcessModel :class:`PyEifModelBitAcc` (the
*how*, ``select_tag="fixed_pt"``) add it with the integer semantics of
:mod:`yuragi.fixedpoint.eif` (docs/backends.md, "The EIF neuron program"):
every time step the model calls :func:`yuragi.fixedpoint.eif.eif_step` on its
Vars. ``u`` is Lava's ``PyLifModelBitAcc`` current bit for bit; ``v`` is
Lava's voltage update plus the exponential term ``E(v)`` of the voltage before
the update; a spiking neuron is reset to ``eif_v_reset`` and held for
``refractory`` steps (its Var ``refractory_count`` counts them down), while
``u`` keeps integrating.

Ports: ``a_in`` (synaptic input), ``s_out`` (spikes), ``state_out``
(``(3, size)``: spikes, u, v after the step, for probes; the build connects
it only when ``u`` or ``v`` is probed).

**a_in is int32.** Lava's LIF declares ``a_in`` as ``int16`` (precision 16),
but the sum its port delivers is int32 either way (see
:mod:`yuragi.backends.lava.build`, "a_in dtype"); this model declares the
type it really gets, ``np.int32``, and hands it to ``eif_step`` unnarrowed,
which applies Lava's int32 ``a_in << 6`` and the 24-bit wrap of ``u``.

On the chip this neuron needs Loihi 2 microcode (one multiply, shifts and a
64-entry table read per neuron and step); on ``Loihi2HwCfg`` this Python
model runs on the host.

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

from yuragi.compiler.compiled import CompiledPopulation
from yuragi.fixedpoint.eif import EIF_PARAM_NAMES, eif_step

__all__ = ["STATE_ROWS", "EIF", "PyEifModelBitAcc"]

#: Rows of ``EIF.state_out`` (as :data:`yuragi.backends.lava.processes.STATE_ROWS`).
STATE_ROWS = ("s", "u", "v")


class EIF(AbstractProcess):
    """A population of EIF neurons running yuragi's integer neuron program.

    Parameters
    ----------
    shape : tuple of int
        ``(size,)``.
    u, v : int or numpy.ndarray
        Initial current and voltage (integers, 24-bit).
    du, dv : int
        12-bit current and voltage decays (Lava LIF semantics).
    vth : int
        Threshold (cut-off) mantissa: a neuron spikes when ``v > vth << 6``.
    bias_mant : int or numpy.ndarray
        13-bit signed bias mantissa per neuron.
    bias_exp : int
        Bias exponent (effective bias ``bias_mant << bias_exp``).
    refractory : int
        Steps a neuron is held after a spike (``v`` not updated; ``u`` integrates).
    eif_v0, eif_k, eif_k_shift, eif_frac_bits, eif_table_bits, eif_v_reset : int
        The integers of the exponential term and the reset
        (:func:`yuragi.fixedpoint.eif.eif_params`, ``CompiledPopulation.params``).
    name : str, optional
        Process name (also names the population in error messages).
    """

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        du: int,
        dv: int,
        vth: int,
        eif_v0: int,
        eif_k: int,
        eif_k_shift: int,
        eif_frac_bits: int,
        eif_table_bits: int,
        eif_v_reset: int,
        u: int | np.ndarray = 0,
        v: int | np.ndarray = 0,
        bias_mant: int | np.ndarray = 0,
        bias_exp: int = 0,
        refractory: int = 0,
        name: ty.Optional[str] = None,
    ) -> None:
        super().__init__(shape=shape, refractory=int(refractory), population=name or "EIF", name=name)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.state_out = OutPort(shape=(len(STATE_ROWS),) + tuple(shape))
        self.u = Var(shape=shape, init=u)
        self.v = Var(shape=shape, init=v)
        self.refractory_count = Var(shape=shape, init=0)
        self.du = Var(shape=(1,), init=du)
        self.dv = Var(shape=(1,), init=dv)
        self.vth = Var(shape=(1,), init=vth)
        self.bias_mant = Var(shape=shape, init=bias_mant)
        self.bias_exp = Var(shape=(1,), init=bias_exp)
        self.eif_v0 = Var(shape=(1,), init=eif_v0)
        self.eif_k = Var(shape=(1,), init=eif_k)
        self.eif_k_shift = Var(shape=(1,), init=eif_k_shift)
        self.eif_frac_bits = Var(shape=(1,), init=eif_frac_bits)
        self.eif_table_bits = Var(shape=(1,), init=eif_table_bits)
        self.eif_v_reset = Var(shape=(1,), init=eif_v_reset)


@implements(proc=EIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyEifModelBitAcc(PyLoihiProcessModel):
    """Bit-accurate EIF: one :func:`yuragi.fixedpoint.eif.eif_step` per time step."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=32)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    state_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    refractory_count: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=32)
    du: int = LavaPyType(int, np.uint16, precision=12)
    dv: int = LavaPyType(int, np.uint16, precision=12)
    vth: int = LavaPyType(int, np.int32, precision=17)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int16, precision=13)
    bias_exp: int = LavaPyType(int, np.int16, precision=3)
    eif_v0: int = LavaPyType(int, np.int64, precision=33)
    eif_k: int = LavaPyType(int, np.int64, precision=16)
    eif_k_shift: int = LavaPyType(int, np.int64, precision=6)
    eif_frac_bits: int = LavaPyType(int, np.int64, precision=4)
    eif_table_bits: int = LavaPyType(int, np.int64, precision=5)
    eif_v_reset: int = LavaPyType(int, np.int64, precision=24)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.refractory = int(proc_params["refractory"])
        self.population = str(proc_params["population"])

    def _program(self) -> CompiledPopulation:
        """The population's integers as the spec function takes them (read from the Vars each step)."""
        return CompiledPopulation(
            name=self.population, kind="EIF", size=int(self.u.shape[0]), du=int(self.du), dv=int(self.dv),
            vth=int(self.vth), bias_mant=np.asarray(self.bias_mant, dtype=np.int64), bias_exp=int(self.bias_exp),
            refractory=self.refractory, params=tuple((name, int(getattr(self, name))) for name in EIF_PARAM_NAMES),
        )

    def run_spk(self) -> None:
        """One step at Lava time step ``T`` (row ``T - 1``)."""
        a_in = self.a_in.recv()
        u, v, spikes, count = eif_step(self.u, self.v, a_in, self.refractory_count, self._program())
        self.u[:] = u
        self.v[:] = v
        self.refractory_count[:] = count
        s = spikes.astype(np.int32)
        self.s_out.send(s)
        self.state_out.send(np.stack((s, self.u, self.v)).astype(np.int32))

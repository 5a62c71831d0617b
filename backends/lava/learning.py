"""A Lava process for plastic projections: yuragi's learning engine as a Lava connection.

Lava 0.10.0's ``LearningDense`` (``PyLearningDenseModelBitApproximate``)
draws one random number per step shared by all synapses, decays traces with
a float ``exp(-1/tau)`` and cannot take the post neuron's firing probability
or a reward population's spikes as factors. :class:`PlasticConnection` (the
*what*) keeps its structure -- ports ``s_in`` (presynaptic spikes),
``s_in_bap`` (postsynaptic spikes, Lava's back-propagating action potential
port), ``s_in_y1`` (post factor), ``a_out`` -- and its ProcessModel
:class:`PyPlasticConnectionModelBitAcc` (the *how*) runs the learning engine
of :mod:`yuragi.fixedpoint.learning`, per step (docs/backends.md, "Plastic
projections"):

* **spiking phase** of Lava time step ``T`` (row ``r = T - 1``): like Lava
  ``Dense``, send the activation computed in the previous step, then
  ``a_buff = (sum of w over the synapses of this step's presynaptic spikes)
  << weight_exp``; receive the post spikes of the same step on ``s_in_bap``
  (the post neuron sent them after reading this process's ``a_out``, so
  recurrent wiring cannot deadlock), the post neurons' 7-bit probability on
  ``s_in_y1`` (``post_factor='probability'``) and the reward population's
  spikes on ``s_in_reward`` (``reward``), and call ``trace_step``; with
  ``pre_timing='arrival'`` ``trace_step`` gets the presynaptic spikes of
  the previous step (the model keeps the last ``s_in``; zeros before the
  first step), those that reach the post neurons at this step;
* **learning phase** (``lrn_guard``: ``epoch_due(r)``): ``apply_rules``;
  the new weights act from the next step on. When the projection has
  learning probes the learning phase also runs on the other steps and sends
  the probed w/d/t/x/y on ``learn_out`` (to a :class:`LearningProbeSink`).

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
from lava.proc.io.extractor import Extractor

from yuragi.backends.lava.stochastic import shift_activation
from yuragi.fixedpoint.learning import apply_rules, epoch_due, init_learning_state, lower_program, trace_step
from yuragi.ir.plasticity import PlasticityProgram

__all__ = [
    "LEARNING_VARS",
    "LearningProbeSink",
    "PlasticConnection",
    "PyLearningProbeSinkModel",
    "PyPlasticConnectionModelBitAcc",
    "probe_layout",
]

#: Learning variables that can be probed, and the population whose size they have.
LEARNING_VARS = {"w": "nnz", "d": "nnz", "t": "nnz", "x1": "pre", "x2": "pre", "y1": "post", "y2": "post", "y3": "post"}


def probe_layout(variables: ty.Sequence[str], nnz: int, n_pre: int, n_post: int) -> tuple[tuple[str, int, int], ...]:
    """``(variable, start, stop)`` of each probed variable in the ``learn_out`` vector."""
    sizes = {"nnz": nnz, "pre": n_pre, "post": n_post}
    out, start = [], 0
    for var in variables:
        size = sizes[LEARNING_VARS[var]]
        out.append((var, start, start + size))
        start += size
    return tuple(out)


class PlasticConnection(AbstractProcess):
    """A projection whose synapses learn with a yuragi PlasticityProgram.

    Parameters
    ----------
    n_pre, n_post : int
        Sizes of the pre- and postsynaptic populations.
    pre_idx, post_idx, weights : numpy.ndarray
        One entry per synapse (the CompiledProjection order); integer weights.
    weight_exp : int
        Shift of each step's summed activation (Lava ``Dense``).
    sign_mode : int
        1 mixed, 2 excitatory, 3 inhibitory (saturation of the learned weights).
    program : PlasticityProgram
        The learning rules and traces.
    seed, proj_index : int
        Network seed and index of the projection in the CompiledNetwork (RNG streams).
    n_reward : int
        Size of the reward population (``program.reward``): 1 or ``n_post``.
    probes : sequence of str
        Learning variables sent on ``learn_out`` every step, in this order
        (see :data:`LEARNING_VARS`).
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
        weight_exp: int,
        sign_mode: int,
        program: PlasticityProgram,
        seed: int,
        proj_index: int,
        n_reward: int = 1,
        probes: ty.Sequence[str] = (),
        name: ty.Optional[str] = None,
    ) -> None:
        nnz = int(np.asarray(weights).shape[0])
        layout = probe_layout(probes, nnz, n_pre, n_post)
        super().__init__(weight_exp=int(weight_exp), sign_mode=int(sign_mode), program=program, probe_layout=layout, name=name)
        self.s_in = InPort(shape=(n_pre,))
        self.s_in_bap = InPort(shape=(n_post,))
        self.s_in_y1 = InPort(shape=(n_post,))
        self.s_in_reward = InPort(shape=(n_reward,))
        self.a_out = OutPort(shape=(n_post,))
        self.learn_out = OutPort(shape=(max(1, layout[-1][2] if layout else 1),))
        self.pre_idx = Var(shape=(nnz,), init=np.asarray(pre_idx, dtype=np.int64))
        self.post_idx = Var(shape=(nnz,), init=np.asarray(post_idx, dtype=np.int64))
        self.w = Var(shape=(nnz,), init=np.asarray(weights, dtype=np.int64))
        self.d = Var(shape=(nnz,), init=0)
        self.t = Var(shape=(nnz,), init=0)
        self.x1 = Var(shape=(n_pre,), init=0)
        self.x2 = Var(shape=(n_pre,), init=0)
        self.y1 = Var(shape=(n_post,), init=0)
        self.y2 = Var(shape=(n_post,), init=0)
        self.y3 = Var(shape=(n_post,), init=0)
        self.a_buff = Var(shape=(n_post,), init=0)
        self.seed = Var(shape=(1,), init=seed)
        self.proj_index = Var(shape=(1,), init=proj_index)


@implements(proc=PlasticConnection, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyPlasticConnectionModelBitAcc(PyLoihiProcessModel):
    """yuragi's learning engine (:mod:`yuragi.fixedpoint.learning`) with Lava ``Dense`` activity."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_bap: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_y1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=7)
    s_in_reward: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=16)
    learn_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64, precision=16)
    pre_idx: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    post_idx: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    w: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=9)
    d: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=9)
    t: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=9)
    x1: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    x2: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    y1: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    y2: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    y3: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=7)
    a_buff: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=32)
    seed: int = LavaPyType(int, np.int64, precision=32)
    proj_index: int = LavaPyType(int, np.int64, precision=32)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params)
        self.weight_exp = int(proc_params["weight_exp"])
        self.sign_mode = int(proc_params["sign_mode"])
        self.lowered = lower_program(proc_params["program"])
        self.layout = proc_params["probe_layout"]
        self.state = None  # built from the Vars on the first step (they are set after __init__)
        self.previous_pre: np.ndarray | None = None  # pre_timing='arrival': the s_in of the previous step

    def _start(self) -> None:
        """The learning state, initialised from the Vars, which then view its arrays."""
        st = init_learning_state(self.pre_idx, self.post_idx, self.w, self.x1.shape[0], self.y1.shape[0])
        st.d[:] = self.d
        st.t[:] = self.t
        st.x[:] = np.stack((self.x1, self.x2))
        st.y[:] = np.stack((self.y1, self.y2, self.y3))
        self.state = st
        self.x1, self.x2 = st.x[0], st.x[1]
        self.y1, self.y2, self.y3 = st.y[0], st.y[1], st.y[2]
        self._sync_synapses()

    def _sync_synapses(self) -> None:
        self.w, self.d, self.t = self.state.w, self.state.d, self.state.t

    def run_spk(self) -> None:
        """Dense activity of this step's presynaptic spikes, then the trace update of row ``T - 1``."""
        if self.state is None:
            self._start()
        st, lp = self.state, self.lowered
        self.a_out.send(self.a_buff)
        pre = self.s_in.recv().astype(bool)
        acc = np.zeros(self.a_buff.shape[0], dtype=np.int64)
        if pre.any():
            syn = st.synapses_of_pre(pre)
            np.add.at(acc, st.post_idx[syn], st.w[syn])
        self.a_buff = shift_activation(acc, self.weight_exp)
        post = self.s_in_bap.recv().astype(bool)
        prob = self.s_in_y1.recv() if lp.post_probability else None
        reward = self.s_in_reward.recv().astype(bool) if lp.reward is not None else None
        seen = pre
        if lp.pre_arrival:  # the spikes arriving now were emitted at the previous step
            seen = self.previous_pre if self.previous_pre is not None else np.zeros_like(pre)
            self.previous_pre = pre
        trace_step(lp, st, self.time_step - 1, seen, post, int(self.seed), int(self.proj_index), post_prob7=prob, reward_spikes=reward)

    def lrn_guard(self) -> bool:
        """Learn at the end of every epoch (``epoch_due``); with probes, send them every step."""
        return epoch_due(self.lowered, self.time_step - 1) or bool(self.layout)

    def run_lrn(self) -> None:
        """``apply_rules`` at the end of an epoch, then the probed values of this step."""
        row = self.time_step - 1
        if epoch_due(self.lowered, row):
            apply_rules(self.lowered, self.state, row, int(self.seed), int(self.proj_index), self.sign_mode)
            self._sync_synapses()
        if self.layout:
            self.learn_out.send(np.concatenate([getattr(self, var) for var, _, _ in self.layout]))


class LearningProbeSink(Extractor):
    """Lava's ``Extractor`` (a pipe to the host), read in the learning phase.

    Parameters are those of ``lava.proc.io.extractor.Extractor`` (``shape``,
    ``buffer_size``: steps per ``run`` call).
    """


@implements(proc=LearningProbeSink, protocol=LoihiProtocol)
@requires(CPU)
class PyLearningProbeSinkModel(PyLoihiProcessModel):
    """Relays what arrives on ``in_port`` in the learning phase of every step to the host pipe."""

    in_port: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int64)
    out_port: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int64)

    def __init__(self, proc_params: dict) -> None:
        super().__init__(proc_params=proc_params)
        self._send = self.proc_params["channel_config"].get_send_full_function()

    def lrn_guard(self) -> bool:
        """Every step (the plastic connection sends its probes in this phase)."""
        return True

    def run_lrn(self) -> None:
        """Forward one step's vector to the host."""
        self._send(self.out_port.csp_ports[-1], self.in_port.recv())

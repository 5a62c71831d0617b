"""The teacher-student test as a compiled network: a clamped output learns through Gibbs synapses.

Unlike :func:`yuragi.plasticity.fixedpoint_runs.teacher_student_fixedpoint`
(the integer engine in a plain loop), everything here goes through the IR,
the compiler and a backend (docs/plasticity.md, section 6):

* ``x``: ``ExternalInput`` of ``replicas * n_inputs`` Bernoulli(``input_rate``)
  inputs (replica ``r`` owns inputs ``r*n_inputs .. (r+1)*n_inputs - 1``);
* ``teacher``: ``ExternalInput`` of ``replicas`` neurons, the teacher's
  sample: at step ``t`` neuron ``r`` spikes with probability
  ``clip(1/2 + h_r / (4 T), 0, 1)``, ``h_r = sum_j v_rj x_j(t - 1)`` with the
  teacher's weights ``v = +-g`` (the inputs of ``t - 1`` reach the output at
  ``t``; the piecewise-linear activation is the compiled StochasticBinary's);
* ``y``: ``StochasticBinary(temperature=T, clamp='teacher')``: its spikes are
  the teacher's, its firing probability ``y1`` comes from the student weights;
* Gibbs synapses ``x -> y`` (:func:`yuragi.plasticity.gibbs_projections`,
  one per input of the replica, ``K`` contacts), ``pre_timing='arrival'``
  unless asked otherwise.

:func:`run_teacher_student` compiles the network and runs it on the
emulator in a :class:`~yuragi.backends.emulator.Session`, recording the
overlap (fraction of contacts with the teacher's sign) and the contact flips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Network, NetworkBuilder
from ..ir.neurons import ExternalInput, StochasticBinary
from .gibbs import gibbs_projections

__all__ = ["CompiledTeacherStudentRun", "TeacherStudentTask", "run_teacher_student", "teacher_student_network"]


@dataclass(frozen=True)
class TeacherStudentTask:
    """A teacher-student network and what it is run with.

    ``teacher[r, j]`` is the teacher's sign (+1/-1) of input ``j`` of replica
    ``r``; ``inputs`` are the ``(steps, size)`` rasters of ``x`` and
    ``teacher``; ``contacts`` the names of the contact projections.
    """

    network: Network
    inputs: dict[str, np.ndarray]
    teacher: np.ndarray
    contacts: tuple[str, ...]
    n_inputs: int
    replicas: int


def teacher_student_network(
    steps: int,
    n_inputs: int = 100,
    replicas: int = 1,
    g: float | None = None,
    temperature: float = 1.0,
    input_rate: float = 0.5,
    seed: int = 0,
    a: int = 2,
    m: int = 7,
    k: int = 6,
    midpoint: float = 0.75,
    K: int = 1,
    pre_timing: str = "arrival",
) -> TeacherStudentTask:
    """The IR network and input rasters of the teacher-student test (module docstring).

    Parameters
    ----------
    steps : int
        Length of the input rasters.
    n_inputs, replicas : int
        Inputs per replica; independent replicas (one output neuron each).
    g : float, optional
        Teacher weight magnitude (default ``3 / sqrt(n_inputs)``).
    temperature, input_rate : float
        Output temperature ``T``; input spike probability per step.
    seed : int
        Seed of the network (neuron and learning draws), of the inputs, the
        teacher and the initial contacts (numpy ``default_rng``).
    a, m, k, midpoint, K : int or float
        Gibbs-synapse parameters (:func:`yuragi.plasticity.gibbs_projections`).
    pre_timing : str
        The Gibbs program's ``pre_timing``.
    """
    g = 3.0 / np.sqrt(n_inputs) if g is None else float(g)
    rng = np.random.default_rng(seed)
    R, N = replicas, n_inputs
    teacher = np.where(rng.random((R, N)) < 0.5, 1, -1)
    x = rng.random((steps, R * N)) < input_rate
    h = np.zeros((steps, R))
    h[1:] = (x[:-1].reshape(steps - 1, R, N) * (g * teacher)).sum(axis=2)
    p = np.clip(0.5 + h / (4.0 * temperature), 0.0, 1.0)
    clamp = rng.random((steps, R)) < p
    b = NetworkBuilder("teacher_student", seed=seed)
    b.input("x", R * N, ExternalInput())
    b.input("teacher", R, ExternalInput())
    b.population("y", R, StochasticBinary(temperature=temperature, clamp="teacher"))
    mask = np.kron(np.eye(R, dtype=bool), np.ones((1, N), dtype=bool))
    names = gibbs_projections(b, "x", "y", g, K=K, seed=seed + 1, a=a, m=m, k=k, midpoint=midpoint, mask=mask, name="W", pre_timing=pre_timing)
    return TeacherStudentTask(b.build(), {"x": x, "teacher": clamp}, teacher, names[:-1], N, R)


@dataclass(frozen=True)
class CompiledTeacherStudentRun:
    """Result of :func:`run_teacher_student` (per replica).

    ``overlap[i, r]``: fraction of replica ``r``'s synapses whose weight
    ``g sum_k (2 c_k - 1) / K`` has the teacher's sign after step
    ``steps[i]`` (a zero weight counts as half); ``flips[i, r]``: contact
    changes since the previous record; ``w_range``: the smallest and largest
    learned integer weight seen; ``seconds``: wall time of the runs.
    """

    steps: np.ndarray
    overlap: np.ndarray
    flips: np.ndarray
    w_range: tuple[int, int]
    seconds: float


def run_teacher_student(task: TeacherStudentTask, steps: int, profile: str = "loihi2", record_every: int = 2000) -> CompiledTeacherStudentRun:
    """Compile ``task.network`` for ``profile`` and run it ``steps`` steps on the emulator (a Session).

    Contacts are read at the end of every resampling period (``2**k``
    steps; the Gibbs program writes weights only then) and every
    ``record_every`` steps, so every flip is counted.
    """
    import time

    from ..backends.emulator import Session
    from ..compiler import compile_network

    compiled, _ = compile_network(task.network, profile)
    session = Session(compiled)
    R, N = task.replicas, task.n_inputs
    contacts = [compiled.projection(name) for name in task.contacts]
    period = 2 ** next(r.decimate_exponent for r in contacts[0].plasticity.rules.values() if r.decimate_exponent is not None)
    complement = int(contacts[0].sign_mode == 3)  # inhibitory: weights store c - 1

    def contact_state() -> np.ndarray:
        out = np.zeros((len(contacts), R, N), dtype=np.int64)
        for i, proj in enumerate(contacts):
            out[i, proj.post_idx, proj.pre_idx - proj.post_idx * N] = session.weights(proj.name) + complement
        return out

    c = contact_state()
    w_lo, w_hi = int(c.min()) - complement, int(c.max()) - complement
    rec, ovl, flips = [], [], []
    n_flips = np.zeros(R, dtype=np.int64)
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        n = min(period - done % period, record_every - done % record_every, steps - done)
        session.run(n, {name: raster[done:done + n] for name, raster in task.inputs.items()})
        done += n
        c_new = contact_state()
        w_lo, w_hi = min(w_lo, int(c_new.min()) - complement), max(w_hi, int(c_new.max()) - complement)
        n_flips += (c_new != c).sum(axis=(0, 2))
        c = c_new
        if done % record_every == 0 or done == steps:
            weight = (2 * c - 1).sum(axis=0)  # in units of g / K
            agree = np.where(weight == 0, 0.5, (np.sign(weight) == task.teacher).astype(float))
            rec.append(done)
            ovl.append(agree.mean(axis=1))
            flips.append(n_flips.copy())
            n_flips[:] = 0
    return CompiledTeacherStudentRun(np.array(rec), np.array(ovl), np.array(flips), (w_lo, w_hi), time.perf_counter() - t0)

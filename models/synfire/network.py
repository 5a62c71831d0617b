"""IR networks of the synfire chain and of the one-layer (a, sigma) map.

Population order (it fixes each input's random stream, see
:mod:`yuragi.backends.inputs`, so runs that differ only in the gate rate
or the packet see the same background spikes): ``chain`` (the
``n_groups x group_size`` LIF or EIF neurons, group ``k`` = neurons
``k*group_size .. (k+1)*group_size - 1``), ``bg`` (background Poisson
sources), ``packet`` (the input pulse packet), and ``gate`` (only when
``gate_rate_hz > 0``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import ModelError
from ...ir import EIF, LIF, Network, NetworkBuilder, PoissonInput, SparseWeights, SpikeTimesInput
from .params import NEURON_MODELS, SynfireParams, background_weight, dga_membrane_variance


def neuron_model(p: SynfireParams, neuron: str = "lif") -> LIF | EIF:
    """The chain's IR neuron (voltages relative to rest; see :mod:`.params`).

    LIF: DGA's threshold 15 mV above rest. EIF (Fourcaud-Trocme 2003):
    soft threshold ``V_T - V_rest`` (18.48 mV, rheobase-matched), slope
    ``delta_T``, spike cut-off ``V_cut - V_rest`` (40 mV). Both: ``tau_m``,
    the exponential PSC, reset to rest, the refractory period, and the drift
    ``mu`` as a bias.
    """
    if neuron not in NEURON_MODELS:
        raise ModelError(f"synfire: neuron model must be one of {', '.join(NEURON_MODELS)}, got {neuron!r}")
    common = dict(tau_mem=p.tau_mem, tau_syn=p.psc_tau, v_reset=0.0, bias=p.bias, refractory=p.refractory_steps)
    if neuron == "lif":
        return LIF(v_th=p.threshold, **common)
    return EIF(delta_T=p.delta_T, v_T=p.eif_threshold - p.v_rest, v_th=p.v_cut - p.v_rest, **common)


def chain_weight(p: SynfireParams, neuron: str = "lif") -> float:
    """Weight of the chain (and packet) synapses, mV/ms; the EIF's is scaled by ``eif_J_factor``."""
    return p.chain_weight * (p.eif_J_factor if neuron == "eif" else 1.0)


def packet_spike_steps(a: int, sigma_ms: float, t_ms: float, dt: float, rng: np.random.Generator) -> np.ndarray:
    """Steps of ``a`` spikes at Gaussian times ``t_ms + sigma_ms N(0, 1)`` (rounded to the grid, >= 0)."""
    times = t_ms + sigma_ms * rng.standard_normal(a)
    return np.maximum(np.rint(times / dt), 0).astype(np.int64)


def initial_voltages(p: SynfireParams, n: int, rng: np.random.Generator) -> np.ndarray:
    """Initial ``v`` (mV above rest): the free membrane's Gaussian (mean, s.d.), kept below threshold.

    Drawing from the stationary distribution (instead of DGA's uniform
    ``[V_rest, V_th]``) avoids a synchronous volley at t = 0; the run then
    has ``packet_t_ms`` of warm-up before the packet.
    """
    sd = float(np.sqrt(dga_membrane_variance(p)))
    v = p.free_mean + sd * rng.standard_normal(n)
    return np.clip(v, 0.0, 0.95 * p.threshold)


def _background(b: NetworkBuilder, p: SynfireParams, n: int, target: str) -> None:
    """``bg`` sources: per neuron ``bg_sources`` excitatory then as many inhibitory, weights +-c."""
    k = 2 * p.bg_sources
    b.input("bg", n * k, PoissonInput(rate_hz=[p.bg_rate_hz]))
    src = np.arange(n * k)
    sign = np.where(src % k < p.bg_sources, 1.0, -1.0)
    b.connect("bg", target, SparseWeights(src, src // k, sign * background_weight(p)))


def _block_all_to_all(pre_blocks: Sequence[int], post_blocks: Sequence[int], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of all-to-all connections from block ``pre_blocks[i]`` to ``post_blocks[i]`` (blocks of ``size``)."""
    j, i = np.meshgrid(np.arange(size), np.arange(size))  # j: pre offset, i: post offset
    pre = np.concatenate([pb * size + j.ravel() for pb in pre_blocks]) if len(pre_blocks) else np.zeros(0, np.int64)
    post = np.concatenate([qb * size + i.ravel() for qb in post_blocks]) if len(post_blocks) else np.zeros(0, np.int64)
    return pre, post


def synfire_chain(
    a: int = 85,
    sigma_in: float = 1.0,
    neuron: str = "lif",
    gate_rate_hz: float = 0.0,
    seed: int = 1,
    params: SynfireParams | None = None,
    probe_v: bool = False,
) -> Network:
    """The DGA synfire chain as an IR Network (10 groups x 100, all-to-all between consecutive groups).

    Parameters
    ----------
    a : int
        Spikes in the input pulse packet (0 .. ``max(group_size, a)``).
    sigma_in : float
        Temporal spread (s.d.) of the input packet, ms.
    neuron : {"lif", "eif"}
        Chain neuron model.
    gate_rate_hz : float
        Rate of each of the ``gate_size`` inhibitory gate neurons, Hz (0: no gate).
    seed : int
        Network seed (background and gate spikes) and seed of the packet's
        spike times and of the initial voltages.
    params : SynfireParams, optional
        Model parameters (default: the paper's).
    probe_v : bool
        Also record the chain's membrane potentials.

    Returns
    -------
    Network
        Named ``synfire``; see the module docstring for its populations.
    """
    p = (params or SynfireParams()).checked()
    _check_packet(a, sigma_in, gate_rate_hz, p)
    rng = np.random.default_rng([int(seed), 0x5F1E])
    n = p.n_groups * p.group_size
    b = NetworkBuilder("synfire", dt=p.dt, seed=int(seed))
    b.population("chain", n, neuron_model(p, neuron), initial_v=initial_voltages(p, n, rng))
    _background(b, p, n, "chain")
    w = chain_weight(p, neuron)
    size_in = max(p.group_size, int(a))
    steps = packet_spike_steps(int(a), float(sigma_in), p.packet_t_ms, p.dt, rng)
    b.input("packet", size_in, SpikeTimesInput(steps=steps, indices=np.arange(int(a))))
    pre = np.repeat(np.arange(size_in), p.group_size)
    post = np.tile(np.arange(p.group_size), size_in)
    b.connect("packet", "chain", SparseWeights(pre, post, np.full(pre.size, w)))
    if p.n_groups > 1:
        pre, post = _block_all_to_all(range(p.n_groups - 1), range(1, p.n_groups), p.group_size)
        b.connect("chain", "chain", SparseWeights(pre, post, np.full(pre.size, w)), delays=p.delay_steps)
    if gate_rate_hz > 0:
        _gate(b, p, gate_rate_hz, n)
    b.probe("chain", "spikes")
    if probe_v:
        b.probe("chain", "v")
    return b.build()


def _gate(b: NetworkBuilder, p: SynfireParams, rate_hz: float, n: int) -> None:
    b.input("gate", p.gate_size, PoissonInput(rate_hz=[float(rate_hz)]))
    b.connect("gate", "chain", np.full((n, p.gate_size), p.weight_for(p.gate_J)))


def _check_packet(a: object, sigma_in: object, gate_rate_hz: object, p: SynfireParams) -> None:
    if not isinstance(a, (int, np.integer)) or isinstance(a, bool) or a < 0:
        raise ModelError(f"synfire: packet size 'a' must be an integer >= 0, got {a!r}")
    if not isinstance(sigma_in, (int, float, np.floating)) or not np.isfinite(sigma_in) or sigma_in < 0:
        raise ModelError(f"synfire: packet spread 'sigma_in' must be a number >= 0 ms, got {sigma_in!r}")
    if not isinstance(gate_rate_hz, (int, float, np.floating)) or not np.isfinite(gate_rate_hz) or gate_rate_hz < 0:
        raise ModelError(f"synfire: gate rate must be a number >= 0 Hz, got {gate_rate_hz!r}")
    if gate_rate_hz * p.dt / 1000.0 > 1.0:
        raise ModelError(f"synfire: gate rate must be <= 1000/dt = {1000.0 / p.dt:g} Hz, got {gate_rate_hz!r}")


def layer_map_network(
    conditions: Sequence[tuple[int, float]],
    trials: int = 1,
    neuron: str = "lif",
    gate_rate_hz: float = 0.0,
    seed: int = 1,
    params: SynfireParams | None = None,
) -> Network:
    """One chain layer probed with many input packets at once: the (a, sigma) -> (a', sigma') map.

    Every (condition, trial) gets its own independent group of
    ``group_size`` neurons (with its own background) and its own input
    packet, all in one population ``layer`` (block ``m = c * trials + t``
    for condition ``c``, trial ``t``) -- one run instead of
    ``len(conditions) * trials``. A gate, if any, is shared by all blocks
    (as it is by all groups of a chain).

    Parameters
    ----------
    conditions : sequence of (int, float)
        Input packets ``(a, sigma_in)``, ``a <= group_size``.
    trials : int
        Independent blocks per condition.
    neuron, gate_rate_hz, seed, params
        As in :func:`synfire_chain`.
    """
    p = (params or SynfireParams()).checked()
    if trials < 1:
        raise ModelError(f"synfire map: 'trials' must be >= 1, got {trials!r}")
    if not conditions:
        raise ModelError("synfire map: give at least one (a, sigma_in) condition")
    for a, s in conditions:
        _check_packet(a, s, gate_rate_hz, p)
        if a > p.group_size:
            raise ModelError(f"synfire map: packet size a={a} exceeds the group size {p.group_size}")
    rng = np.random.default_rng([int(seed), 0x3A9])
    blocks = len(conditions) * trials
    n = blocks * p.group_size
    b = NetworkBuilder("synfire_map", dt=p.dt, seed=int(seed))
    b.population("layer", n, neuron_model(p, neuron), initial_v=initial_voltages(p, n, rng))
    _background(b, p, n, "layer")
    steps, idx = [], []
    for c, (a, s) in enumerate(conditions):
        for t in range(trials):
            m = c * trials + t
            steps.append(packet_spike_steps(int(a), float(s), p.packet_t_ms, p.dt, rng))
            idx.append(m * p.group_size + np.arange(int(a)))
    b.input("packet", n, SpikeTimesInput(steps=np.concatenate(steps), indices=np.concatenate(idx)))
    pre, post = _block_all_to_all(range(blocks), range(blocks), p.group_size)
    b.connect("packet", "layer", SparseWeights(pre, post, np.full(pre.size, chain_weight(p, neuron))))
    if gate_rate_hz > 0:
        _gate(b, p, gate_rate_hz, n)
    b.probe("layer", "spikes")
    return b.build()

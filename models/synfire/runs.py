"""Running the synfire chain on any backend, and the sweeps built on single runs.

Backends (``backend=``):

- ``"brian2-float"``: the IR network in the Brian2 float reference
  (:func:`yuragi.backends.brian2.run_float`);
- ``"emulator"``, ``"lava"``, ``"brian2"``: compiled for ``profile``
  (``loihi1`` / ``loihi2``) with :func:`yuragi.compiler.compile_network`
  and run in fixed point (the three are bit-exact with each other);
- ``"euler-float"``: the IR's Euler equations in float64 (:mod:`.euler`),
  the quantized program without its rounding (LIF only);
- ``"paper"``: the paper's own equations in Brian2 (:mod:`.paper`), the
  unlowered model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ...errors import ModelError
from .analysis import LayerMap, PacketStats, build_layer_map, chain_packets, layer_map_packets
from .network import layer_map_network, synfire_chain
from .params import SynfireParams

RUN_BACKENDS = ("brian2-float", "euler-float", "emulator", "lava", "brian2", "paper")
#: Output window of the one-layer map after the packet centre, ms.
MAP_AFTER_MS = 20.0


def chain_duration_ms(p: SynfireParams | None = None) -> float:
    """Simulated time of a chain run: warm-up, then per group one delay + 3 ms, then 10 ms, ms."""
    p = p or SynfireParams()
    return p.packet_t_ms + p.n_groups * (p.delay_steps * p.dt + 3.0) + 10.0


def chain_steps(p: SynfireParams | None = None) -> int:
    """Steps of a chain run (:func:`chain_duration_ms` / dt)."""
    p = p or SynfireParams()
    return int(round(chain_duration_ms(p) / p.dt))


def run_network(net: Any, backend: str, steps: int, profile: str = "loihi2") -> Any:
    """Run an IR network on ``backend`` (compiling it for ``profile`` when fixed point); a RunResult."""
    from ...backends import get_backend

    if backend == "brian2-float":
        return get_backend("brian2").run_float(net, steps)
    if backend == "euler-float":
        from .euler import run_euler

        return run_euler(net, steps)
    if backend in ("emulator", "lava", "brian2"):
        from ...compiler import compile_network

        compiled, _ = compile_network(net, profile)
        return get_backend(backend).run(compiled, steps)
    raise ModelError(f"synfire: backend must be one of {', '.join(RUN_BACKENDS[:-1])}, got {backend!r}")


@dataclass(frozen=True)
class ChainRun:
    """One chain run: its packets, and the RunResult (None for the ``paper`` backend)."""

    packets: PacketStats
    result: Any
    seconds: float


def run_chain(
    a: int = 85,
    sigma_in: float = 1.0,
    neuron: str = "lif",
    gate_rate_hz: float = 0.0,
    seed: int = 1,
    backend: str = "brian2-float",
    params: SynfireParams | None = None,
    profile: str = "loihi2",
) -> ChainRun:
    """Build and run one chain (:func:`~.network.synfire_chain`) and measure its packets."""
    import time

    p = params or SynfireParams()
    if backend not in RUN_BACKENDS:
        raise ModelError(f"synfire: backend must be one of {', '.join(RUN_BACKENDS)}, got {backend!r}")
    start = time.perf_counter()
    if backend == "paper":
        from .paper import run_paper_chain

        packets, _ = run_paper_chain(a, sigma_in, neuron, gate_rate_hz, seed, p)
        return ChainRun(packets, None, time.perf_counter() - start)
    net = synfire_chain(a, sigma_in, neuron, gate_rate_hz, seed, p)
    result = run_network(net, backend, chain_steps(p), profile)
    return ChainRun(chain_packets(result, p), result, time.perf_counter() - start)


def survival_sweep(
    rates_hz: Sequence[float],
    seeds: Sequence[int],
    neuron: str = "lif",
    backend: str = "brian2-float",
    a: int = 85,
    sigma_in: float = 1.0,
    params: SynfireParams | None = None,
    profile: str = "loihi2",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Survival to the last group vs gate rate nu_G over seeds.

    Returns
    -------
    dict
        ``rates_hz``, ``seeds``, ``survived`` (``(rates, seeds)`` bool),
        ``a_last`` and ``sigma_last`` (``(rates, seeds)``), ``fraction``
        per rate, ``passes`` (issue #10 target per run), ``seconds``.
    """
    rates = [float(r) for r in rates_hz]
    shape = (len(rates), len(seeds))
    survived = np.zeros(shape, dtype=bool)
    passes = np.zeros(shape, dtype=bool)
    a_last = np.zeros(shape, dtype=np.int64)
    s_last = np.full(shape, np.nan)
    seconds = 0.0
    for i, rate in enumerate(rates):
        for j, seed in enumerate(seeds):
            run = run_chain(a, sigma_in, neuron, rate, int(seed), backend, params, profile)
            survived[i, j], passes[i, j] = run.packets.survived, run.packets.passes()
            a_last[i, j], s_last[i, j] = run.packets.a[-1], run.packets.sigma[-1]
            seconds += run.seconds
        if progress:
            progress(f"{backend} {neuron} nu_G={rate:g} Hz: survival {survived[i].mean():.2f} ({len(seeds)} seeds)")
    return {
        "rates_hz": rates, "seeds": [int(s) for s in seeds], "survived": survived, "passes": passes,
        "a_last": a_last, "sigma_last": s_last, "fraction": survived.mean(axis=1), "seconds": seconds,
    }


def layer_map(
    a_values: Sequence[int],
    sigma_values: Sequence[float],
    trials: int,
    neuron: str = "lif",
    backend: str = "brian2-float",
    seed: int = 1,
    gate_rate_hz: float = 0.0,
    params: SynfireParams | None = None,
    profile: str = "loihi2",
    max_blocks: int = 60,
) -> LayerMap:
    """The mean one-layer map (a, sigma_in) -> (a', sigma') on a grid, from runs of stacked blocks.

    The ``len(a_values) * len(sigma_values) * trials`` blocks of
    :func:`~.network.layer_map_network` are run in chunks of whole grid
    points of at most ``max_blocks`` blocks (chunk ``i`` with seed ``seed + i``)
    to bound memory.
    """
    if backend == "paper":
        raise ModelError("synfire: the layer map runs on IR backends only (brian2-float, emulator, lava, brian2)")
    p = params or SynfireParams()
    conditions = [(int(a), float(s)) for a in a_values for s in sigma_values]
    per_chunk = max(1, max_blocks // max(trials, 1))
    steps = int(round((p.packet_t_ms + MAP_AFTER_MS) / p.dt))
    a_out, s_out = [], []
    for i, start in enumerate(range(0, len(conditions), per_chunk)):
        chunk = conditions[start:start + per_chunk]
        net = layer_map_network(chunk, trials, neuron, gate_rate_hz, seed + i, p)
        result = run_network(net, backend, steps, profile)
        a_c, s_c = layer_map_packets(result, len(chunk) * trials, p)
        a_out.append(a_c)
        s_out.append(s_c)
    return build_layer_map(a_values, sigma_values, trials, np.concatenate(a_out), np.concatenate(s_out))

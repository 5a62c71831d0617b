"""Stochastic binary neurons and stochastic release as Brian2 integer code.

Independent Brian2 implementation of the per-step semantics of
docs/backends.md (the specification is :mod:`yuragi.fixedpoint.stochastic`;
only the hash :func:`yuragi.rng.hash32` is shared, see :mod:`.hashfn`).

**StochasticBinary population** (``NeuronGroup`` with ``int64`` ``u``,
``x``, ``v`` (always 0), ``bias``, ``fire`` and the accumulators): in the
``groups`` slot, ``u`` follows the LIF ``u`` update with the population's
``du``; ``x = u + bias``; with the noise width ``N`` the draw
``r = (hash32(seed, STREAM_NEURON + pop, row, i) * N) >> 32`` (uniform in
``[0, N)``) gives ``fire = int(r < x + N // 2)``; the Brian2 threshold is
``fire > 0``. No reset, no refractory period.

**Release**: the ``on_pre`` of a projection with ``release_prob = p < 1``
adds the weight only when
``hash32(seed, STREAM_RELEASE + proj, row, k) < floor(p * 2**32)``, ``k``
the synapse's index in the CompiledProjection (a synapse variable ``k``) and
``row`` the step the spike was *emitted* at: the ``on_pre`` of a synapse of
delay ``d`` runs at step ``row + d - 1`` (Brian2 delay ``(d - 1) dt``), so
``row = t_in_timesteps - lag`` with ``lag = d - 1``.
"""

from __future__ import annotations

import math

from ...rng import STREAM_NEURON, STREAM_RELEASE
from .hashfn import draw, multiply_high

#: Bits of the post-probability factor handed to the learning engine (Lava's W_TRACE).
PROB_BITS = 7
#: Largest noise width whose multiply-high stays exact in the split form of :func:`multiply_high`.
NOISE_WIDTH_MAX = 1 << 31


def firing_code(seed: int, pop_index: int, noise_width: int) -> list[str]:
    """Lines computing ``fire`` from ``x`` at step ``t_in_timesteps`` (after ``x`` is set)."""
    n = int(noise_width)
    return [
        f"h_fire = {draw(seed, STREAM_NEURON + pop_index, 't_in_timesteps', 'i')}",
        f"r_fire = {multiply_high('h_fire', n)}",
        f"fire = int(r_fire < x + {n // 2})",
    ]


def probability_expr(x: str, noise_width: int) -> str:
    """Brian2 expression of the 7-bit firing probability ``clip(((x + N//2) << 7) // N, 0, 127)``."""
    n = int(noise_width)
    return f"clip((({x} + {n // 2}) * {1 << PROB_BITS}) // {n}, 0, {(1 << PROB_BITS) - 1})"


def release_threshold(release_prob: float) -> int:
    """``floor(p * 2**32)``: a draw below it transmits (``2**32`` for ``p >= 1``)."""
    p = min(max(float(release_prob), 0.0), 1.0)
    return int(math.floor(p * 2.0**32))


def release_on_pre(acc: str, seed: int, proj_index: int, release_prob: float, lag: str) -> str:
    """``on_pre`` code adding ``w`` to ``acc`` of the target only for a released synapse.

    ``lag`` is the Brian2 expression of ``delay - 1`` in steps (a constant or
    the synapse variable ``lag``); ``k`` is the synapse variable holding the
    CompiledProjection index.
    """
    row = "t_in_timesteps" if lag == "0" else f"(t_in_timesteps - {lag})"
    released = f"int({draw(seed, STREAM_RELEASE + proj_index, row, 'k')} < {release_threshold(release_prob)})"
    return f"{acc}_post += w * {released}"

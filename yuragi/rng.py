"""Counter-based random numbers shared by every backend.

Every random draw in yuragi is a pure function of ``(seed, stream, step,
index)``: a 32-bit hash built from the MurmurHash3 finaliser (``fmix32``,
Appleby 2011, public domain). Because no generator state is carried, the
emulator, the Lava process models and Brian2 produce the *same* draws for the
same network and seed, and stochastic networks verify bit for bit.

All arithmetic is on ``numpy.uint32`` with wrap-around, so any implementation
with 32-bit unsigned multiply (C, numpy, Loihi 2 microcode) reproduces it.
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint32(0x85EBCA6B)
_C2 = np.uint32(0xC2B2AE35)
_GOLDEN = np.uint32(0x9E3779B9)
_S1 = np.uint32(0x27D4EB2F)
_S2 = np.uint32(0x165667B1)

# Stream bases: stream = base + element index (population or projection index in the network).
STREAM_INPUT = 0x0100
STREAM_RELEASE = 0x0200
STREAM_NEURON = 0x0300
STREAM_LEARNING = 0x0400
STREAM_PRE_TRACE = 0x0500
STREAM_POST_TRACE = 0x0600


def _fmix(h: np.ndarray) -> np.ndarray:
    """fmix32 on a uint32 array or scalar (caller holds ``np.errstate(over="ignore")``)."""
    h = h ^ (h >> np.uint32(16))
    h = h * _C1
    h = h ^ (h >> np.uint32(13))
    h = h * _C2
    return h ^ (h >> np.uint32(16))


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (a bijection on uint32 with full avalanche)."""
    with np.errstate(over="ignore"):
        return _fmix(np.asarray(h, dtype=np.uint32))


_KEY_CACHE: dict[tuple[int, int], np.uint32] = {}


def _key(seed: int, stream: int) -> np.uint32:
    """The hash state after mixing in ``seed`` and ``stream`` (cached: they are few)."""
    k = (int(seed), int(stream))
    key = _KEY_CACHE.get(k)
    if key is None:
        with np.errstate(over="ignore"):
            h = _fmix(np.uint32(k[0]) ^ _GOLDEN)
            key = _fmix(h ^ (np.uint32(k[1]) * _S1))
        if len(_KEY_CACHE) < 65536:
            _KEY_CACHE[k] = key
    return key


def hash32(seed: int, stream: int, step: np.ndarray | int, index: np.ndarray | int) -> np.ndarray:
    """Uniform 32-bit draws for ``(seed, stream, step, index)``; ``step``/``index`` broadcast.

    ``h = fmix(fmix(fmix(fmix(seed ^ GOLDEN) ^ stream * S1) ^ step * S2) ^ index)``
    with wrap-around uint32 arithmetic.

    Parameters
    ----------
    seed : int
        Network seed, in [0, 2**32).
    stream : int
        Stream id (e.g. ``STREAM_INPUT + population_index``), in [0, 2**32).
    step, index : int or numpy.ndarray
        Time step and element (neuron or synapse) index, in [0, 2**32).

    Returns
    -------
    numpy.ndarray of uint32
    """
    with np.errstate(over="ignore"):
        h = _fmix(_key(seed, stream) ^ (np.asarray(step, dtype=np.uint32) * _S2))
        return _fmix(h ^ np.asarray(index, dtype=np.uint32))


def probability_threshold(p: np.ndarray | float) -> np.ndarray:
    """Integer threshold ``floor(p * 2**32)`` so that ``hash32(...) < threshold`` has probability p.

    Returned as uint64 (``p = 1`` gives ``2**32``, always true).
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    return np.floor(p * 2.0**32).astype(np.uint64)


def bernoulli(seed: int, stream: int, step: np.ndarray | int, index: np.ndarray | int, threshold: np.ndarray) -> np.ndarray:
    """Boolean draws: ``hash32(seed, stream, step, index) < threshold`` (see :func:`probability_threshold`)."""
    return hash32(seed, stream, step, index).astype(np.uint64) < threshold

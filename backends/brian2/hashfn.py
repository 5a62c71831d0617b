"""The counter-based hash as a Brian2 function, and integer code snippets built on it.

The hash :func:`yuragi.rng.hash32` is the one piece of code the Brian2
Loihi-exact mode shares with the other fixed-point backends: it is the
definition of every random draw (a pure function of ``(seed, stream, step,
index)``). Brian2 code has no bitwise operators, so it is exposed as a Brian2
:class:`~brian2.core.functions.Function` with a numpy implementation; all
arithmetic *on* the draws (multiply-high, comparisons with fractions,
stochastic rounding) is Brian2 code written here and in
:mod:`.stochastic` / :mod:`.learning`, independently of
:mod:`yuragi.fixedpoint`.

Integer conventions of the generated code (all ``int64``): ``a << k`` is
``a * 2**k``; ``a >> k`` is ``a // 2**k`` (floor division = arithmetic
shift, also for negative ``a``); ``a & (2**k - 1)`` is ``a % 2**k`` (Python's
``%``: non-negative for a positive divisor, what numpy and Brian2's numpy
target compute). The top ``b`` bits of a 32-bit draw ``h`` are
``h // 2**(32 - b)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...rng import hash32

#: Name of the hash function inside Brian2 code strings.
HASH = "hash32"

#: The 16-bit half used to split a 32 x 31-bit multiply (intermediate values stay below 2**48).
HALF = 1 << 16


def _hash32_int64(seed: Any, stream: Any, step: Any, index: Any) -> np.ndarray:
    """numpy implementation: :func:`yuragi.rng.hash32` as int64 (values in ``[0, 2**32)``)."""
    return np.asarray(hash32(int(seed), int(stream), np.asarray(step, dtype=np.int64), np.asarray(index, dtype=np.int64)), dtype=np.int64)


def hash_function(b2: Any) -> Any:
    """The Brian2 ``Function`` ``hash32(seed, stream, step, index)`` -> int64 in ``[0, 2**32)``.

    ``seed`` and ``stream`` must be constants of the code (they are inlined
    integers); ``step`` and ``index`` may be arrays (``t_in_timesteps``,
    ``i``, a synapse variable).
    """
    function = b2.Function(
        _hash32_int64, arg_units=[1, 1, 1, 1], return_unit=1,
        arg_types=["integer"] * 4, return_type="integer", stateless=True, auto_vectorise=False,
    )
    # Call the plain numpy function: Brian2's default numpy wrapper turns every
    # argument into a Quantity and checks the result's units on each call
    # (about 2 ms per call, most of a step's time).
    function.implementations.add_numpy_implementation(_hash32_int64, discard_units=True)
    return function


def namespace(b2: Any) -> dict[str, Any]:
    """The namespace every Brian2 object that draws random numbers gets."""
    return {HASH: hash_function(b2)}


def draw(seed: int, stream: int, step: str, index: str) -> str:
    """Brian2 expression of one 32-bit draw."""
    return f"{HASH}({int(seed)}, {int(stream)}, {step}, {index})"


def top_bits(expr: str, bits: int) -> str:
    """Brian2 expression of the top ``bits`` bits of the 32-bit draw ``expr`` (``h >> (32 - bits)``)."""
    return f"(({expr}) // {1 << (32 - bits)})"


def multiply_high(h: str, n: int) -> str:
    """Brian2 expression of ``(h * n) >> 32`` for a draw ``h`` in ``[0, 2**32)`` and ``n`` in ``[1, 2**31]``.

    The product can reach ``2**63 - 2**31``; to keep every intermediate value
    below ``2**48`` (exact even if an expression were evaluated in float64),
    ``h`` is split as ``hi * 2**16 + lo``:
    ``(h*n) >> 32 == (hi*n + ((lo*n) >> 16)) >> 16``
    (nested floors of positive integers by positive integers compose).
    ``h`` must be a variable name (it is used twice).
    """
    return f"(({h} // {HALF}) * {int(n)} + (({h} % {HALF}) * {int(n)}) // {HALF}) // {HALF}"

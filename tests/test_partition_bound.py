"""Partition: the least-total input-axon lower bound (exact over cuts) and index-width narrowing for packing.

See ``compiler/partition.py`` (module docstring, "Lower bound", and
``_Partitioner._narrow_for_packing``) and docs/compiler.md, "partition".
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuragi.compiler.partition import _FanIn, _Partitioner, partition
from yuragi.hw_profiles import load_profile

from profile_helpers import custom_profile
from test_partition import check_partition, lif, source, sparse

L1 = load_profile("loihi1")


def _chain(k2: int):
    pops = [source("a", k2), source("b", k2 - 1), lif("dst", k2)]
    chain_pre = np.repeat(np.arange(k2 - 1), 2)
    chain_post = chain_pre + np.tile([0, 1], k2 - 1)
    projs = [sparse("priv", "a", "dst", k2, k2, np.arange(k2), np.arange(k2)),
             sparse("chain", "b", "dst", k2 - 1, k2, chain_pre, chain_post)]
    return pops, projs


def test_chain_input_axon_bound_is_tight(tmp_path):
    # dst: 2K = 10 neurons, input_axons limit L = 5. Neuron i has one private axon (priv: src i -> dst i)
    # and the chain axons x_i (chain: src i -> dst i, i + 1; i = 0 .. 2K - 2) touch two neighbours.
    # A block of 3 neurons needs 3 private + 4 chain axons = 7 > 5, so blocks have <= 2 neurons (>= K blocks).
    # Per axon, the best alignment puts each x_i in one block: 2K + (2K - 1) = 19 -> ceil(19 / 5) = 4 cores.
    # But one cut serves all axons: every block boundary (between i and i + 1) splits exactly x_i, and
    # >= K blocks have >= K - 1 boundaries, so every valid cut needs >= 19 + (K - 1) = 23 -> 5 cores.
    # The pairs [0, 2), [2, 4), ... reach it: 4 + 5 + 5 + 5 + 4 = 23 axons, no two blocks fit one core: 5 cores.
    prof = custom_profile(tmp_path / "p.toml", core__input_axons=5)
    k2 = 10
    pops, projs = _chain(k2)
    part = partition(pops, projs, prof)
    assert [(b.start, b.stop) for b in part.blocks] == [(i, i + 2) for i in range(0, k2, 2)]
    assert [b.input_axons for b in part.blocks] == [4, 5, 5, 5, 4]
    assert part.totals["input_axons"] == 23  # the per-axon interval cover alone gives 19 (4 cores)
    assert part.lower_bound_cores == part.n_cores == 5
    check_partition(part, pops, projs, prof)


def test_oversized_window_table_keeps_the_cover_bound(tmp_path, monkeypatch):
    import yuragi.compiler.partition as partition_module

    monkeypatch.setattr(partition_module, "_DP_MAX_CELLS", 10)
    prof = custom_profile(tmp_path / "p.toml", core__input_axons=5)
    pops, projs = _chain(10)
    part = partition(pops, projs, prof)
    assert part.totals["input_axons"] == 19 and part.lower_bound_cores == 4 and part.n_cores == 5


def _brute_least(pt: _Partitioner, name: str, span: int, limit: int) -> float:
    """Least total input axons over every cut into blocks of <= span neurons and <= limit axons (enumerated)."""
    fi = pt.fanin[name]
    n = fi.size
    best = np.inf
    for mask in itertools.product([0, 1], repeat=n - 1):
        cuts = [0] + [i + 1 for i, c in enumerate(mask) if c] + [n]
        total = 0.0
        for a, b in zip(cuts, cuts[1:]):
            if b - a > span:
                break
            prefix, _ = pt._prefix(name, a, b - a, 0, None)
            ax = float(prefix["input_axons"][-1])
            if ax > limit:
                break
            total += ax
        else:
            best = min(best, total)
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), n=st.integers(1, 11), n_pre=st.integers(1, 12),
       density=st.floats(0.05, 0.8), plastic=st.booleans(), limit=st.integers(1, 30), span=st.integers(1, 12))
def test_least_input_axons_equals_enumeration(seed, n, n_pre, density, plastic, limit, span):
    rng = np.random.default_rng(seed)
    post_idx, pre_idx = np.nonzero(rng.random((n, n_pre)) < density)
    from test_partition import STDP
    pops = [source("s", n_pre), lif("d", n)]
    projs = [sparse("p", "s", "d", n_pre, n, pre_idx, post_idx, plastic=STDP if plastic else None)]
    if n_pre > 2:  # a second projection sharing the fan-in (other slots, duplicate (pre, post) pairs)
        pi = rng.integers(0, 2, 3 * n)
        projs.append(sparse("q", "s", "d", n_pre, n, pi, rng.integers(0, n, pi.size)))
    pt = _Partitioner(pops, projs, L1)
    fi: _FanIn = pt.fanin["d"]
    got = fi.least_input_axons(span, limit, guess=1 + seed % 5)
    assert got == _brute_least(pt, "d", min(span, n), limit)
    w = min(span, n)
    ax = fi.window_axons(w)
    for s in range(n):
        prefix, _ = pt._prefix("d", s, min(w, n - s), 0, None)
        np.testing.assert_array_equal(ax[s, :n - s], prefix["input_axons"])
        assert np.all(np.isinf(ax[s, n - s:]))


def _local_fields(n: int, width: int = 64):
    post = np.repeat(np.arange(n), width)
    pre = (post + np.tile(np.arange(width) - width // 2, n)) % n
    return pre, post


def test_narrow_index_width_packs_synapse_bound_blocks():
    # 2048 neurons, each fed by the 64 source neurons around it (wrapping): synaptic memory binds.
    # Fewest blocks (10 index bits, 8 + 10 = 18 bits per synapse): ~870-neuron blocks that each fill a core's
    # memory -> 3 cores. At 6 bits (blocks of 64): 127 axons per block, axon with n synapses there takes
    # 64 * ceil((14 n + 10) / 64) bits: 2 * sum_{n=1..63} + 960 = 62,528 bits per block; 16 blocks = 1,000,448
    # <= 1,048,576 bits, 1024 compartments, 2032 input axons -> 2 cores = the compartment bound.
    n = 2048
    pre, post = _local_fields(n)
    pops = [source("in", n), lif("c", n)]
    projs = [sparse("p", "in", "c", n, n, pre, post)]
    part = partition(pops, projs, "loihi1")
    assert part.index_bits["c"] == 6
    assert {b.size for b in part.blocks} == {64}
    assert {b.synapse_bits for b in part.blocks} == {62_528}
    assert part.n_cores == part.lower_bound_cores == 2
    check_partition(part, pops, projs, L1)


def test_width_kept_when_compartments_bind():
    # one-to-one: compartments bind, narrower widths would only add blocks -> one block of 1024 at 10 bits
    n = 1024
    pops = [source("in", n), lif("c", n)]
    projs = [sparse("p", "in", "c", n, n, np.arange(n), np.arange(n))]
    part = partition(pops, projs, "loihi1")
    assert part.index_bits["c"] == 10 and len(part.blocks) == 1


@pytest.mark.parametrize("p", [0.02, 0.05])
def test_random_fanin_bound_close_to_cut(p):
    # random 2 % / 5 % fan-in from 6000 sources into 1500 neurons: input axons bind; the exact least total
    # is a lower bound the greedy cut comes within 10 % of (the per-axon cover alone is ~1.5x looser)
    rng = np.random.default_rng(3)
    n_pre, n = 6000, 1500
    post_idx, pre_idx = np.nonzero(rng.random((n, n_pre)) < p)
    pops = [source("in", n_pre), lif("d", n)]
    projs = [sparse("p", "in", "d", n_pre, n, pre_idx, post_idx)]
    part = partition(pops, projs, "loihi1")
    assert part.lower_bounds()["input_axons"] == part.lower_bound_cores
    assert part.lower_bound_cores <= part.n_cores <= 1.1 * part.lower_bound_cores
    assert part.totals["input_axons"] <= sum(b.input_axons for b in part.blocks)


def test_narrowing_never_makes_a_source_neuron_overflow(tmp_path):
    # As above, plus an on-chip neuron 'b' driving all 2048 neurons of 'c'. At 6 index bits 'c' has 32 blocks,
    # so b's neuron would need 32 (projection, block) output axons > 16 (the limit here): that width is refused
    # (it would turn a network that compiles into a CompileError); 'c' keeps a width b's neuron fits.
    prof = custom_profile(tmp_path / "p.toml", core__output_axons=16)
    n = 2048
    pre, post = _local_fields(n)
    pops = [source("in", n), lif("b", 1), lif("c", n)]
    projs = [sparse("p", "in", "c", n, n, pre, post),
             sparse("bc", "b", "c", 1, n, np.zeros(n, dtype=np.int64), np.arange(n))]
    part = partition(pops, projs, prof)
    assert part.index_bits["c"] > 6
    assert part.blocks_of("b")[0].output_axons == len(part.blocks_of("c")) <= 16
    check_partition(part, pops, projs, prof)

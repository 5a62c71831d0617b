"""Pass 5 (place): valid cores, traffic accounting, graph placement beats the naive order."""

from __future__ import annotations

import numpy as np
import pytest

from yuragi.compiler.compiled import SIGN_EXCITATORY, CompiledPopulation, CompiledProjection
from yuragi.compiler.partition import partition
from yuragi.compiler.place import DEFAULT_RATE_HZ, Placement, place
from yuragi.errors import CompileError
from yuragi.hw_profiles import load_profile
from yuragi.ir import PoissonInput

from profile_helpers import custom_profile

L1 = load_profile("loihi1")


def lif(name: str, n: int) -> CompiledPopulation:
    return CompiledPopulation(name, "LIF", n, vth=100)


def source(name: str, n: int) -> CompiledPopulation:
    return CompiledPopulation(name, "PoissonInput", n, source=PoissonInput(rate_hz=[10.0]))


def sparse(name, pre, post, n_pre, n_post, pre_idx, post_idx):
    pre_idx = np.asarray(pre_idx, dtype=np.int64)
    return CompiledProjection(name, pre, post, n_pre, n_post, pre_idx, np.asarray(post_idx, dtype=np.int64),
                              np.ones(pre_idx.size, np.int64), 1, sign_mode=SIGN_EXCITATORY, dense=False)


def one_to_one(name, pre, post, n):
    return sparse(name, pre, post, n, n, np.arange(n), np.arange(n))


def dense(name, pre, post, n_pre, n_post):
    post_idx, pre_idx = np.nonzero(np.ones((n_post, n_pre), dtype=bool))
    return CompiledProjection(name, pre, post, n_pre, n_post, pre_idx, post_idx, np.ones(pre_idx.size, np.int64), 1,
                              dense=True)




def check_placement(pl: Placement, part, profile) -> None:
    """Every block on a valid physical core, consistent chip/tile, logical cores kept together and apart."""
    ch = profile.chip
    assert len(pl.blocks) == len(part.blocks)
    n_chips_max = -(-part.n_cores // ch.cores_per_chip)
    phys_of_logical: dict[int, int] = {}
    for b, pb in zip(part.blocks, pl.blocks):
        assert (pb.population, pb.start, pb.stop) == (b.population, b.start, b.stop)
        assert 0 <= pb.core < n_chips_max * ch.cores_per_chip <= ch.max_chips * ch.cores_per_chip
        assert pb.chip == pb.core // ch.cores_per_chip
        tile = (pb.core % ch.cores_per_chip) // ch.cores_per_tile
        assert pb.tile == (tile % ch.tiles_x, tile // ch.tiles_x)
        assert 0 <= pb.tile[0] < ch.tiles_x and 0 <= pb.tile[1] < ch.tiles_y
        assert phys_of_logical.setdefault(b.core, pb.core) == pb.core  # blocks of one logical core stay together
    assert len(set(phys_of_logical.values())) == len(phys_of_logical)  # distinct logical cores -> distinct cores
    assert pl.n_cores == part.n_cores
    assert pl.core_map == tuple(phys_of_logical[k] for k in range(part.n_cores))


def interleaved_modules(n_modules=4, cores_per_pop=32):
    """A_i <-> B_i strongly coupled, listed A0..A3 then B0..B3: the naive order splits every pair across chips."""
    n = cores_per_pop * 1024
    pops = [lif(f"A{i}", n) for i in range(n_modules)] + [lif(f"B{i}", n) for i in range(n_modules)]
    projs = [one_to_one(f"A{i}B{i}", f"A{i}", f"B{i}", n) for i in range(n_modules)]
    projs += [one_to_one(f"B{i}A{i}", f"B{i}", f"A{i}", n) for i in range(n_modules)]
    return pops, projs


def test_graph_placement_cuts_cross_chip_traffic_on_a_multichip_network():
    pops, projs = interleaved_modules()
    part = partition(pops, projs, "loihi1")
    assert part.n_cores == 256  # 8 populations x 32 cores = 2 chips
    pl = place(part, projs, "loihi1")
    check_placement(pl, part, L1)
    assert pl.n_chips == 2 and pl.kept == "graph"
    # naive: chip 0 holds A*, chip 1 holds B*: every message crosses chips
    assert pl.naive.across_chips == pytest.approx(8 * 32 * 1024 * DEFAULT_RATE_HZ * 1e-3)
    ratios = pl.ratios()
    assert ratios["across_chips"] < 1 and ratios["chip_crossings"] < 1 and ratios["routing_energy"] < 1
    assert pl.traffic.across_chips == 0.0  # each A_i, B_i pair fits on one chip
    # every message still leaves its core (A and B blocks are full cores)
    assert pl.traffic.total == pytest.approx(pl.naive.total)


def test_tile_locality_on_one_chip():
    # a ring of 64 one-core populations listed in a shuffled order: graph placement shortens mesh paths
    rng = np.random.default_rng(0)
    order = rng.permutation(64)
    pops = [lif(f"P{k}", 1024) for k in order]
    projs = [one_to_one(f"R{k}", f"P{k}", f"P{(k + 1) % 64}", 1024) for k in range(64)]
    part = partition(pops, projs, "loihi1")
    pl = place(part, projs, "loihi1")
    check_placement(pl, part, L1)
    assert pl.n_chips == 1
    assert pl.ratios()["hops"] < 0.6
    assert pl.traffic.across_chips == pl.naive.across_chips == 0.0


def test_sequential_is_the_naive_order():
    pops, projs = interleaved_modules(n_modules=2, cores_per_pop=8)
    part = partition(pops, projs, "loihi1")
    pl = place(part, projs, "loihi1", method="sequential")
    check_placement(pl, part, L1)
    assert pl.kept == "sequential"
    assert pl.core_map == tuple(range(part.n_cores))
    assert pl.traffic == pl.naive
    assert all(r == 1.0 for r in pl.ratios().values())


def test_traffic_hand_count():
    # in (100 sources, 20 Hz) --dense--> A (1024) --one-to-one--> B (1024); dt = 1 ms, A and B at 10 Hz.
    # A -> B: 1024 neurons x 0.01 spikes/step x 1 destination block = 10.24 messages/step between 2 cores;
    #   both cores are on tile (0, 0) of chip 0 -> within tile, 0 hops.
    # host: 100 x 0.02 x 1 destination block (A is one block) = 2.0 messages/step.
    pops = [source("in", 100), lif("A", 1024), lif("B", 1024)]
    projs = [dense("inA", "in", "A", 100, 1024), one_to_one("AB", "A", "B", 1024)]
    part = partition(pops, projs, "loihi1")
    pl = place(part, projs, "loihi1", rates={"in": 20.0}, dt=1.0)
    check_placement(pl, part, L1)
    t = pl.traffic
    assert t.within_tile == pytest.approx(10.24)
    assert t.host_injected == pytest.approx(2.0)
    assert (t.within_core, t.across_tiles, t.across_chips, t.hops) == (0.0, 0.0, 0.0, 0.0)
    assert t.routing_energy_pj == pytest.approx(10.24 * L1.energy.spike_within_tile)
    # halving dt halves every rate per step
    assert place(part, projs, "loihi1", rates={"in": 20.0}, dt=0.5).traffic.within_tile == pytest.approx(5.12)


def test_hops_counted_on_the_global_mesh():
    # 2 chips side by side (grid 2 wide): a message from chip 0 tile (0,0) to chip 1 tile (0,0) takes 8 E-W hops
    # (tiles_x = 8) and crosses 1 chip boundary. Force it with the sequential order: P0 on core 0, P1 on core 128.
    pops = [lif("P0", 1024)] + [lif(f"F{k}", 1024) for k in range(127)] + [lif("P1", 1024)]
    projs = [sparse("x", "P0", "P1", 1024, 1024, [0], [0])]
    part = partition(pops, projs, "loihi1")
    pl = place(part, projs, "loihi1", method="sequential", rates={"P0": 1000.0})
    t = pl.traffic
    assert t.across_chips == pytest.approx(1.0)  # one neuron at 1000 Hz, dt = 1 ms
    assert (t.hops_ew, t.hops_ns, t.chip_crossings) == (pytest.approx(8.0), 0.0, pytest.approx(1.0))
    graph = place(part, projs, "loihi1", rates={"P0": 1000.0})
    check_placement(graph, part, L1)
    assert graph.traffic.across_chips == 0.0 and graph.traffic.hops < t.hops


def test_too_many_cores_for_max_chips(tmp_path):
    prof = custom_profile(tmp_path / "one_chip.toml", chip__max_chips=1)
    part = partition([lif("big", 129 * 1024)], [], prof)
    with pytest.raises(CompileError) as err:
        place(part, [], prof)
    msg = str(err.value)
    assert "129 cores" in msg and "2 chips" in msg and "at most 1 chips" in msg and "128 cores" in msg


def test_bad_arguments():
    part = partition([lif("a", 10)], [], "loihi1")
    with pytest.raises(CompileError, match="method"):
        place(part, [], "loihi1", method="magic")
    with pytest.raises(CompileError, match="unknown population 'zz'"):
        place(part, [], "loihi1", rates={"zz": 1.0})
    with pytest.raises(CompileError, match="Hz >= 0"):
        place(part, [], "loihi1", rates={"a": -1.0})
    with pytest.raises(CompileError, match="dt"):
        place(part, [], "loihi1", dt=0)


def test_placement_is_deterministic_and_serialisable():
    pops, projs = interleaved_modules(n_modules=3, cores_per_pop=24)
    part = partition(pops, projs, "loihi1")
    a = place(part, projs, "loihi1", seed=1)
    b = place(part, projs, "loihi1", seed=1)
    assert a.core_map == b.core_map
    d = a.to_dict()
    assert d["n_chips"] == a.n_chips and len(d["blocks"]) == len(part.blocks)
    assert "ratio" in a.summary()


def test_rebuilt_projections_give_the_same_traffic():
    # place() reuses the partition's index when given the same projection objects, else rebuilds it
    pops, projs = interleaved_modules(n_modules=2, cores_per_pop=4)
    part = partition(pops, projs, "loihi1")
    copies = [sparse(p.name, p.pre, p.post, p.n_pre, p.n_post, p.pre_idx, p.post_idx) for p in projs]
    assert place(part, projs, "loihi1").traffic == place(part, copies, "loihi1").traffic


def test_quantized_examples_place(chain_net, ei_net):
    from yuragi.compiler.quantize import quantize

    for net in (chain_net, ei_net):
        q = quantize(net, "loihi1")
        part = partition(q.populations, q.projections, "loihi1")
        pl = place(part, q.projections, "loihi1")
        check_placement(pl, part, L1)
        assert pl.traffic.host_injected > 0

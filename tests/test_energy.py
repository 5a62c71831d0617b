"""yuragi.energy: op counters priced with a hardware profile (issue #8)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from yuragi.backends import get_backend
from yuragi.backends.counters import COUNTER_NAMES, count_ops
from yuragi.backends.result import RunResult, SpikeEvents
from yuragi.cli import main as _main
from yuragi.compiler import compile_network
from yuragi.compiler.compiled import CoreBlock
from yuragi.energy import OP_CLASSES, profile_energy
from yuragi.hw_profiles import load_profile
from yuragi.ir import LIF, NetworkBuilder, SpikeTimesInput


def tiny_net(input_steps=(0,)):
    """stim (1 input) -> a (1 LIF) -> b (1 LIF) and a -> c (1 LIF), all delay 1, weight small."""
    b = NetworkBuilder("tiny", dt=1.0, seed=0)
    stim = b.input("stim", 1, SpikeTimesInput(steps=np.array(input_steps), indices=np.zeros(len(input_steps), dtype=int)))
    lif = LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0)
    a = b.population("a", 1, lif)
    pb = b.population("b", 1, lif)
    pc = b.population("c", 1, lif)
    b.connect(stim, a, 20.0)
    b.connect(a, pb, 0.1)
    b.connect(a, pc, 0.1)
    return b.build()


def place(compiled, c_core, c_chip, c_tile=(0, 0)):
    """a on core 0 tile (0,0); b on core 5 tile (2,1) (3 hops: 2 E-W + 1 N-S); c where asked."""
    blocks = (
        CoreBlock("a", 0, 1, core=0, chip=0, tile=(0, 0)),
        CoreBlock("b", 0, 1, core=5, chip=0, tile=(2, 1)),
        CoreBlock("c", 0, 1, core=c_core, chip=c_chip, tile=c_tile),
    )
    return dataclasses.replace(compiled, blocks=blocks)


def hand_result(compiled):
    """2 steps: stim spikes at step 0, a spikes at steps 0 and 1; b, c never spike."""
    spikes = {
        "stim": SpikeEvents(1, np.array([0]), np.array([0])),
        "a": SpikeEvents(1, np.array([0, 1]), np.array([0, 0])),
        "b": SpikeEvents(1, np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
        "c": SpikeEvents(1, np.array([], dtype=np.int64), np.array([], dtype=np.int64)),
    }
    rasters = {k: v.raster(2) for k, v in spikes.items()}
    counters = count_ops(compiled, rasters, 2)
    # the two counters no spike produces: put them in by hand
    counters["learning_updates"][1, 5] = 3
    counters["random_draws"][0, 0] = 4
    return RunResult("tiny", "hand", 2, 1.0, 0, spikes, {}, counters, {})


@pytest.fixture(scope="module")
def tiny_compiled():
    compiled, _ = compile_network(tiny_net(), "loihi1")
    return compiled


def test_hand_computed_energy_every_op_class(tiny_compiled):
    """Every op class, worked out by hand with the Loihi 1 profile (D18 Table 2 figures, pJ / ns).

    Placement: a core 0 tile (0,0) chip 0; b core 5 tile (2,1) chip 0; c core 200 chip 1.
    Spikes: stim at step 0; a at steps 0 and 1. Synapses have delay 1.

    Counters (by the definitions in backends/counters.py):
      synaptic_ops: stim->a at step 0 (core 0) = 1; a->b, a->c at steps 0, 1 (cores 5, 200) = 4;  total 5
      neuron updates: 3 neurons x 2 steps = 6. Active: a at steps 0, 1 (spikes); b and c at step 1
        (receive a's step-0 spike after 1 step) -> 4 active; b, c at step 0 -> 2 inactive
      messages from a, per spike: 1 to core 5 (same chip, other core) + 1 to core 200 (other chip)
        -> spike_msgs_across_cores 2, spike_msgs_across_chips 2
      tile hops: (0,0)->(2,1) = 2 E-W + 1 N-S per spike -> 4 E-W + 2 N-S (tile_hops counter 6)
      input_spike_msgs: stim's spike to core 0 = 1
      learning_updates 3 (core 5, step 1), random_draws 4 (core 0, step 0): set by hand

    Energy (pJ): active 4 x 81 = 324; inactive 2 x 52 = 104; synop 5 x 23.6 = 118;
      on-chip msgs 2 x 1.7 = 3.4; E-W hops 4 x 3.0 = 12; N-S hops 2 x 4.0 = 8;
      across chip 2 x 160 = 320; input msg 1 x 1.7 = 1.7; learning 3 x 120 = 360;
      random 4 x 10 = 40.  Dynamic = 1291.1 pJ.

    Time (ns): two chips -> barrier = barrier_multichip = 16200.
      step 0: core 0 = active 8.4 + synop 3.5 + input msg 2.1 + msg 2.1 + hops 2 x 4.1 + 6.5 = 30.8;
              core 5 = inactive 5.3 + synop 3.5 = 8.8; core 200 = 8.8      -> 16200 + 30.8
      step 1: core 0 = 8.4 + 2.1 + 8.2 + 6.5 = 25.2; core 5 = 8.4 + 3.5 + 3 x 6.1 = 30.2;
              core 200 = 8.4 + 3.5 = 11.9                                  -> 16200 + 30.2
      both above the 5800 ns floor; total 32461 ns.
    Static = 104 mW x 2 chips x 32461 ns = 6.751888e-6 J.
    """
    compiled = place(tiny_compiled, 200, 1)
    result = hand_result(compiled)
    tot = {k: result.total(k) for k in COUNTER_NAMES}
    assert tot == {"spikes": 2, "neuron_updates_active": 4, "neuron_updates_inactive": 2, "synaptic_ops": 5,
                   "spike_msgs_within_core": 0, "spike_msgs_across_cores": 2, "spike_msgs_across_chips": 2,
                   "tile_hops": 6, "input_spike_msgs": 1, "learning_updates": 3, "random_draws": 4}
    rep = profile_energy(result, compiled, "loihi1")
    expected_pj = {"neuron_update_active": 324, "neuron_update_inactive": 104, "synaptic_op": 118,
                   "spike_msg_on_chip": 3.4, "tile_hop_ew": 12, "tile_hop_ns": 8, "spike_across_chip": 320,
                   "input_spike_msg": 1.7, "learning_update": 360, "random_draw": 40}
    assert set(expected_pj) == set(OP_CLASSES)
    for cls, pj in expected_pj.items():
        assert rep.by_class[cls] == pytest.approx(pj * 1e-12, rel=1e-12), cls
    assert rep.dynamic_j == pytest.approx(1291.1e-12, rel=1e-12)
    assert rep.counts["tile_hop_ew"] == 4 and rep.counts["tile_hop_ns"] == 2
    assert rep.chips == 2 and rep.barrier_s == pytest.approx(16200e-9)
    assert rep.time_s == pytest.approx(32461e-9, rel=1e-12)
    assert rep.static_j == pytest.approx(104e-3 * 2 * 32461e-9, rel=1e-12)
    assert rep.total_j == pytest.approx(1291.1e-12 + 6.751888e-6, rel=1e-12)
    assert rep.energy_per_spike_j == pytest.approx(rep.total_j / 2)
    assert rep.energy_per_synop_j == pytest.approx(rep.total_j / 5)
    assert rep.energy_per_step_j == pytest.approx(rep.total_j / 2)
    # per core and per population (one population per core here)
    assert rep.by_core[200]["spike_across_chip"] == 0  # counted on the source core
    assert rep.by_core[0]["spike_across_chip"] == pytest.approx(320e-12)
    assert sum(rep.by_population["b"].values()) == pytest.approx((104 / 2 + 81 + 2 * 23.6 + 360) * 1e-12)
    total_pop = sum(sum(v.values()) for v in rep.by_population.values())
    assert total_pop == pytest.approx(rep.dynamic_j)
    # estimated inputs: across-chip, learning, random and static power are estimates in loihi1
    for key in ("energy.spike_across_chip", "energy.learning_update_per_synapse", "energy.random_draw",
                "energy.static_power_mw_per_chip"):
        assert key in rep.estimated_inputs
    assert "energy.synaptic_op" not in rep.estimated_inputs
    assert rep.depends_on_estimates["synaptic_op"] == []
    assert rep.depends_on_estimates["spike_across_chip"] == ["energy.spike_across_chip"]
    # literature baselines: 5 synops x 8.6 nJ (CPU), x 0.3 nJ (GPU)
    assert rep.baselines["cpu"]["energy_j"] == pytest.approx(5 * 8600e-12)
    assert rep.baselines["gpu"]["energy_j"] == pytest.approx(5 * 300e-12)
    json.dumps(rep.to_dict())


def test_single_chip_barrier_and_floor(tiny_compiled):
    """All on chip 0, tiles (0,0) and (2,1): 2 tiles of 32 -> barrier 113 + (465 - 113) / 31 ns; floor 5800 ns binds."""
    compiled = place(tiny_compiled, 1, 0)
    rep = profile_energy(hand_result(compiled), compiled, "loihi1")
    assert rep.chips == 1
    assert rep.barrier_s == pytest.approx((113 + 352 / 31) * 1e-9)
    assert rep.time_s == pytest.approx(2 * 5800e-9)
    assert rep.static_j == pytest.approx(104e-3 * 2 * 5800e-9)
    assert rep.depends_on_estimates["time"] == []  # the floor is a published (Frady 2020) figure


def test_per_op_figures_reproduce_davies_table2():
    """One op of each class priced alone gives D18 Table 2 exactly (pJ)."""
    p = load_profile("loihi1")
    table2 = {"synaptic_op": 23.6, "neuron_update_active": 81.0, "neuron_update_inactive": 52.0,
              "spike_within_tile": 1.7, "tile_hop_ew": 3.0, "tile_hop_ns": 4.0, "synaptic_update": 120.0}
    for key, pj in table2.items():
        assert p.value(f"energy.{key}") == pj
        assert not p.is_estimated(f"energy.{key}")


def test_energy_linear_in_spike_count(tiny_compiled):
    """Fixed network and placement, k input spikes 20 steps apart (each makes a fire exactly 6 times):
    total energy = E0 + slope x spikes exactly (E0: idle neuron updates and static energy)."""
    steps = 405
    energies, spikes = [], []
    for k in (0, 5, 10, 20):
        net = tiny_net(tuple(range(0, 20 * k, 20)))
        compiled, _ = compile_network(net, "loihi1")
        compiled = place(compiled, 1, 0, (1, 0))
        result = get_backend("emulator").run(compiled, steps)
        rep = profile_energy(result, compiled, "loihi1")
        energies.append(rep.total_j)
        spikes.append(rep.total_spikes + result.spikes["stim"].count)
    slope = (energies[-1] - energies[0]) / (spikes[-1] - spikes[0])
    assert slope > 0
    for e, s in zip(energies, spikes):
        assert e == pytest.approx(energies[0] + slope * (s - spikes[0]), rel=1e-9)
    assert spikes[1] > spikes[0]


def test_doubling_a_run_doubles_its_energy(chain_net):
    compiled, _ = compile_network(chain_net, "loihi1")
    r = get_backend("emulator").run(compiled, 100)
    twice = dataclasses.replace(
        r, steps=200,
        spikes={k: SpikeEvents(v.size, np.concatenate([v.steps, v.steps + 100]), np.concatenate([v.neurons, v.neurons])) for k, v in r.spikes.items()},
        counters={k: np.concatenate([v, v]) for k, v in r.counters.items()},
    )
    e1, e2 = profile_energy(r, compiled, "loihi1"), profile_energy(twice, compiled, "loihi1")
    assert e2.total_spikes == 2 * e1.total_spikes
    assert e2.dynamic_j == pytest.approx(2 * e1.dynamic_j)
    assert e2.total_j == pytest.approx(2 * e1.total_j)


def test_crossing_chips_costs_more(chain_net):
    """The same run placed on one chip vs split over two: more across-chip messages, more energy."""
    compiled, _ = compile_network(chain_net, "loihi1")
    one = dataclasses.replace(compiled, blocks=(CoreBlock("hidden", 0, 32, 0, 0, (0, 0)), CoreBlock("out", 0, 8, 1, 0, (0, 0))))
    two = dataclasses.replace(compiled, blocks=(CoreBlock("hidden", 0, 32, 0, 0, (0, 0)), CoreBlock("out", 0, 8, 128, 1, (0, 0))))
    r1, r2 = (get_backend("emulator").run(c, 200) for c in (one, two))
    assert r1.total("spikes") == r2.total("spikes")
    assert r1.total("spike_msgs_across_chips") == 0 < r2.total("spike_msgs_across_chips")
    e1, e2 = profile_energy(r1, one, "loihi1"), profile_energy(r2, two, "loihi1")
    assert e2.by_class["spike_across_chip"] > 0 == e1.by_class["spike_across_chip"]
    assert e2.dynamic_j > e1.dynamic_j
    assert e2.time_per_step_s > e1.time_per_step_s and e2.static_j > 2 * e1.static_j


def test_energy_equal_across_backends(chain_net):
    compiled, _ = compile_network(chain_net, "loihi1")
    a = get_backend("emulator").run(compiled, 100)
    b = get_backend("brian2").run(compiled, 100)
    for name in COUNTER_NAMES:
        assert np.array_equal(a.counters[name], b.counters[name]), name
    ea, eb = profile_energy(a, compiled, "loihi1"), profile_energy(b, compiled, "loihi1")
    assert ea.to_dict() | {"network": 0} == eb.to_dict() | {"network": 0}


def test_samples_and_loihi2_estimates(chain_net):
    compiled, _ = compile_network(chain_net, "loihi2")
    r = get_backend("emulator").run(compiled, 50)
    rep = profile_energy(r, compiled, "loihi2", samples=5)
    assert rep.energy_per_sample_j == pytest.approx(rep.total_j / 5)
    assert "energy.synaptic_op" in rep.estimated_inputs  # Loihi 1 proxy


def main(args):
    """yuragi's entry point; returns its exit status."""
    with pytest.raises(SystemExit) as exc:
        _main(args)
    return exc.value.code


def test_cli_profile(tmp_path, capsys):
    out_png, out_json = tmp_path / "e.png", tmp_path / "e.json"
    assert 0 == main(["profile", "chain", "--compare", "loihi1,loihi2", "--steps", "100", "--plot", str(out_png), "--json", str(out_json)])
    text = capsys.readouterr().out
    assert "synaptic_op" in text and "literature figure" in text and "loihi2" in text
    doc = json.loads(out_json.read_text())
    assert set(doc) == {"loihi1", "loihi2"}
    assert out_png.stat().st_size > 1000
    # saved run + program
    assert 0 == main(["run", "chain", "--profile", "loihi1", "--steps", "50", "-o", str(tmp_path / "r.npz"), "--json"])
    assert 0 == main(["compile", "chain", "--profile", "loihi1", "-o", str(tmp_path / "p.yrc"), "--json"])
    capsys.readouterr()
    assert 0 == main(["profile", str(tmp_path / "r.npz"), "--program", str(tmp_path / "p.yrc"), "--profile", "loihi1"])
    assert "per synaptic op" in capsys.readouterr().out
    assert main(["profile", str(tmp_path / "r.npz")]) == 2  # needs --program
    assert main(["profile", "chain", "--json", str(out_json)]) == 2  # exists, no --force


def test_cli_activity_sweep_energy_grows_with_rate(tmp_path, capsys):
    """--rate-scale runs one network per input-rate factor; dynamic energy per sample grows with activity."""
    import re

    from yuragi.cli import main

    png = tmp_path / "act.png"
    with pytest.raises(SystemExit) as info:
        main(["profile", "chain", "--steps", "200", "--rate-scale", "0.5,1,2", "--activity-plot", str(png)])
    assert info.value.code == 0
    out = capsys.readouterr().out
    spikes = [float(x) for x in re.findall(r"([\d.]+) spikes/step", out)]
    assert len(spikes) == 3 and spikes[0] < spikes[1] < spikes[2]
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit) as info:
        main(["profile", "chain", "--activity-plot", str(tmp_path / "x.png")])
    assert info.value.code == 2

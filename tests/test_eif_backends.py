"""EIF populations run bit-exactly on Lava, Brian2 Loihi-exact and the emulator (issue #10).

The EIF neuron program is specified by yuragi/fixedpoint/eif.py. The emulator
(general engine) and the Lava process (``backends/lava/eif.py``) call its
``eif_step``; the Brian2 exact mode (``backends/brian2/eif.py``) is an
independent reimplementation in Brian2 code. Networks are built with the IR
and compiled by yuragi's compiler; every per-step spike, ``u``, ``v`` and op
counter is compared over 1000 steps for two seeds. Besides agreement, the
tests check the semantics directly: neurons fire, the exponential term
changes the spikes (switching it off gives other spikes), a neuron is held at
the reset for exactly ``refractory`` steps, and the Brian2 exponential term
equals the specification's over the whole 24-bit voltage range.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from yuragi.backends import get_backend
from yuragi.compiler import compile_network
from yuragi.compiler.compiled import CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from yuragi.errors import BackendError, CompileError
from yuragi.fixedpoint.eif import V0_OFF, eif_exp, eif_params
from yuragi.ir import EIF, NetworkBuilder, PoissonInput, Probe, RasterInput
from yuragi.ir.plasticity import PlasticityProgram, Trace
from yuragi.verify import compare_exact

STEPS = 1000
SEEDS = (1, 2)
BACKENDS = ("lava", "brian2", "emulator")
#: Fourcaud-Trocme 2003 Wang-Buzsaki fit, rest shifted to 0 mV (as tests/test_fixedpoint_eif.py).
FT = dict(tau_mem=10.0, tau_syn=1.0, delta_T=3.48, v_T=5.1, v_th=35.0, v_reset=0.0)
#: A second, sharper EIF for the inhibitory population.
FAST = dict(tau_mem=10.0, tau_syn=2.0, delta_T=2.0, v_T=8.0, v_th=20.0, v_reset=0.0)
V_T = {"e": FT["v_T"], "i": FAST["v_T"]}


def eif_network(seed: int):
    """Poisson input -> 40 EIF (FT2003, recurrent, delays 1-3, refractory 1 ms) <-> 10 EIF (inhibitory), dt = 0.1 ms."""
    rng = np.random.default_rng(100 + seed)
    n_in, n_e, n_i = 30, 40, 10
    b = NetworkBuilder(f"eif_net{seed}", dt=0.1, seed=seed)
    stim = b.input("stim", n_in, PoissonInput(rate_hz=[40.0]))
    e = b.population("e", n_e, EIF(bias=0.05, refractory=10, **FT))
    i = b.population("i", n_i, EIF(refractory=5, **FAST))
    b.connect(stim, e, weights=rng.uniform(0, 1.0, (n_e, n_in)) * (rng.random((n_e, n_in)) < 0.5))
    w_ee = rng.uniform(0, 0.6, (n_e, n_e)) * (rng.random((n_e, n_e)) < 0.2)
    np.fill_diagonal(w_ee, 0.0)
    b.connect(e, e, weights=w_ee, delays=rng.integers(1, 4, (n_e, n_e)))
    b.connect(e, i, weights=rng.uniform(0, 1.0, (n_i, n_e)))
    b.connect(i, e, weights=-rng.uniform(0, 0.8, (n_e, n_i)))
    for pop in ("e", "i"):
        b.probe(pop, "u")
        b.probe(pop, "v")
    return b.build()


def without_exponential(compiled: CompiledNetwork) -> CompiledNetwork:
    """The same program with E switched off (``eif_v0 = 2**23``): a plain LIF with the EIF's reset."""
    pops = tuple(
        dataclasses.replace(p, params=tuple({**dict(p.params), "eif_v0": V0_OFF}.items())) if p.kind == "EIF" else p
        for p in compiled.populations
    )
    return dataclasses.replace(compiled, populations=pops)


def assert_refractory_semantics(result, pop: CompiledPopulation) -> None:
    """After a spike at row t, v is eif_v_reset at rows t .. t + R, and the next spike comes at t + R + 1 or later."""
    raster, v = result.raster(pop.name), result.probes[f"{pop.name}.v"]
    reset, R = pop.param("eif_v_reset"), pop.refractory
    rows, neurons = np.nonzero(raster)
    for t, n in zip(rows, neurons):
        held = v[t:t + R + 1, n]
        assert np.all(held == reset), (pop.name, t, n, held)
        later = np.flatnonzero(raster[t + 1:, n])
        assert later.size == 0 or later[0] + 1 > R
    assert rows.size and any(np.flatnonzero(raster[:, n]).size > 1 for n in range(pop.size))  # some neuron fired again after R


@pytest.mark.parametrize("seed", SEEDS)
def test_eif_network_is_bit_exact_on_every_backend(seed):
    compiled, _ = compile_network(eif_network(seed), "loihi2")
    assert [p.kind for p in compiled.populations] == ["PoissonInput", "EIF", "EIF"]
    results = {b: get_backend(b).run(compiled, STEPS) for b in BACKENDS}
    for other in ("brian2", "emulator"):
        verdict = compare_exact(results["lava"], results[other])
        assert verdict.equal, f"lava vs {other}: {verdict.summary()}"
        assert {"spikes", "u", "v", "counters"} <= set(verdict.compared)
    lava = results["lava"]
    assert lava.meta["yuragi_neuron_models"] == {"e": "PyEifModelBitAcc", "i": "PyEifModelBitAcc"}
    assert {"e", "i"} <= set(lava.meta["needs_loihi2_microcode"])
    for name in ("e", "i"):
        pop = compiled.population(name)
        raster, v = lava.raster(name), lava.probes[f"{name}.v"]
        assert (raster.sum(axis=0) > 0).sum() >= pop.size // 2, f"{name}: too few neurons fire"
        # the exponential is exercised: v above the soft threshold v_T, where E is thousands of units per step
        above = v > pop.scale * V_T[name]
        assert above.sum() > 100 and eif_exp(v[above], pop.params).max() > 2**15
        assert_refractory_semantics(lava, pop)
    # ... and it matters: the same program without E fires differently
    plain = get_backend("emulator").run(without_exponential(compiled), STEPS)
    assert not np.array_equal(plain.raster("e"), lava.raster("e"))
    assert plain.spikes["e"].count < lava.spikes["e"].count


def test_stdp_onto_eif_neurons_agrees_and_sessions_continue():
    """A plastic projection (STDP) into EIF neurons: the three backends agree on spikes, v and weights (600 steps);
    an emulator session run in two calls equals one run (the refractory count lives in refr_end across calls)."""
    rng = np.random.default_rng(3)
    b = NetworkBuilder("eif_stdp", dt=0.1, seed=4)
    stim = b.input("stim", 30, PoissonInput(rate_hz=[60.0]))
    e = b.population("e", 20, EIF(bias=0.1, refractory=10, **FT))
    stdp = PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1", x1=Trace(16, 6), y1=Trace(20, 5), t_epoch=1)
    b.connect(stim, e, weights=rng.uniform(0.2, 1.0, (20, 30)), plasticity=stdp)
    b.probe("e", "v")
    b.probe("stim->e", "w")
    compiled, _ = compile_network(b.build(), "loihi2")
    results = {name: get_backend(name).run(compiled, 600) for name in BACKENDS}
    for other in ("brian2", "emulator"):
        verdict = compare_exact(results["lava"], results[other])
        assert verdict.equal, f"lava vs {other}: {verdict.summary()}"
    w = results["lava"].probes["stim->e.w"]
    assert results["lava"].spikes["e"].count > 20 and (w[-1] != w[0]).sum() > 50
    from yuragi.backends.emulator import Session

    session = Session(compiled)
    first, second = session.run(300), session.run(300)
    whole = results["emulator"]
    assert whole.raster("e")[300 - compiled.population("e").refractory:300].any()  # the split falls inside a refractory period
    np.testing.assert_array_equal(np.concatenate([first.raster("e"), second.raster("e")]), whole.raster("e"))
    np.testing.assert_array_equal(np.concatenate([first.probes["e.v"], second.probes["e.v"]]), whole.probes["e.v"])


# ------------------------------------------------------------------ corner cases, hand-made integers


def hand_eif(name: str, size: int, **params) -> CompiledPopulation:
    p = eif_params(5.1, 3.48, 10.0, 0.1, 2**20 / 35.0)
    p.update(params)
    return CompiledPopulation(name, "EIF", size, du=409, dv=41, vth=1 << 14, bias_mant=np.arange(size) * 40, bias_exp=3,
                              refractory=3, params=tuple(p.items()), v_init=np.linspace(-2**22, 2**20, size).astype(np.int64))


def test_large_inputs_negative_reset_and_refractory_agree():
    """int32 a_in (|a_in| >> 2**15), u's 24-bit wrap, v clipping, a negative eif_v_reset, refractory 3; 120 steps."""
    rng = np.random.default_rng(7)
    steps, n_src, n = 120, 8, 6
    raster = rng.random((steps, n_src)) < 0.3
    src = CompiledPopulation("src", "RasterInput", n_src, source=RasterInput(raster=raster))
    pop = hand_eif("n", n, eif_v_reset=-40000)
    w = rng.choice([-256, -128, 64, 200, 254], size=(n, n_src))  # mixed sign: even weights (Lava grid)
    post, pre = np.nonzero(w)
    proj = CompiledProjection("src->n", "src", "n", n_src, n, pre, post, w[post, pre], np.ones(post.size, np.int64),
                              num_weight_bits=8, weight_exp=7)  # one spike: up to 256 * 128 = 32768 -> a_in up to ~2**18
    program = CompiledNetwork("corner", "loihi2", 0.1, 3, (src, pop), (proj,), blocks=(CoreBlock("n", 0, n, core=0, chip=0),),
                              probes=(Probe("n", "u"), Probe("n", "v")))
    results = {b: get_backend(b).run(program, steps) for b in BACKENDS}
    for other in ("brian2", "emulator"):
        verdict = compare_exact(results["lava"], results[other])
        assert verdict.equal, f"lava vs {other}: {verdict.summary()}"
    u, v = results["lava"].probes["n.u"], results["lava"].probes["n.v"]
    assert np.abs(u).max() > 2**22 and np.any(np.diff(np.sign(u), axis=0) != 0)  # big swings of u
    assert (v == -40000).any() and results["lava"].spikes["n"].count > 3
    assert_refractory_semantics(results["lava"], pop)


def brian2_exp(pop: CompiledPopulation, v: np.ndarray) -> np.ndarray:
    """E(v) computed by the Brian2 exact mode's code (one step of a NeuronGroup)."""
    from yuragi.backends.brian2 import eif as b2eif
    from yuragi.backends.brian2._common import brian2_module, codegen_target

    b2 = brian2_module()
    with codegen_target():
        group = b2.NeuronGroup(v.size, "v : integer\nout : integer", dtype={"v": np.int64, "out": np.int64}, namespace=b2eif.namespace(b2, pop))
        group.v = v
        op = group.run_regularly("\n".join(b2eif.exp_code(pop) + ["out = eif_e"]), when="groups")
        b2.Network(group, op).run(b2.defaultclock.dt, namespace={})
        return np.asarray(group.out[:], dtype=np.int64)


@pytest.mark.parametrize("params", [
    eif_params(5.1, 3.48, 10.0, 0.1, 2**20 / 35.0),  # FT2003, default F = 6, M = 12
    eif_params(10.0, 0.5, 10.0, 0.1, 2**20 / 20.0, frac_bits=8, table_bits=14),  # sharp, finer table
    {"eif_v0": 1000, "eif_k": 3, "eif_k_shift": 1, "eif_frac_bits": 2, "eif_table_bits": 4, "eif_v_reset": 0},  # by hand
])
def test_brian2_exponential_term_equals_the_specification(params):
    pop = CompiledPopulation("x", "EIF", 1, vth=1 << 17, params=tuple(params.items()))
    v0 = params["eif_v0"]
    v = np.concatenate([np.arange(-(2**23) + 1, 2**23, 97), np.arange(v0 - 3000, v0 + 3000)])
    v = v[(v > -(2**23)) & (v < 2**23)]
    expected = eif_exp(v, params)
    assert (expected == 0).any() and (expected == 2**23 - 1).any() and ((expected > 0) & (expected < 2**23 - 1)).sum() > 50
    np.testing.assert_array_equal(brian2_exp(pop, v), expected)


# ------------------------------------------------------------------ errors, CLI


def test_loihi1_rejects_eif_with_a_clear_compile_error():
    with pytest.raises(CompileError, match="population 'e': EIF cannot run on Loihi 1"):
        compile_network(eif_network(1), "loihi1")


def test_eif_without_its_program_integers_is_named_by_every_backend():
    compiled, _ = compile_network(eif_network(1), "loihi2")
    bare = dataclasses.replace(compiled, populations=tuple(dataclasses.replace(p, params=()) if p.name == "i" else p for p in compiled.populations))
    for backend in BACKENDS:
        with pytest.raises(BackendError, match="population 'i':.*EIF.*eif_"):
            get_backend(backend).run(bare, 5)


def test_cli_verify_on_an_eif_network(tmp_path, capsys):
    from yuragi.cli import main
    from yuragi.ir.fileio import save_network

    path = save_network(eif_network(2), tmp_path / "eif.yrg")
    with pytest.raises(SystemExit) as info:
        main(["verify", str(path), "--backend", "emulator", "--against", "brian2", "--steps", "300", "--json"])
    out = capsys.readouterr()
    assert info.value.code == 0, out.err
    report = json.loads(out.out)
    assert report["ok"] is True and report["exact"]["equal"] is True

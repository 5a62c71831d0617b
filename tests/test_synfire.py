"""The synfire chain (issue #10): parameters and their lowering, the networks, the analysis, runs.

Behaviour is checked on few seeds here (float reference and emulator fast,
Lava marked slow); benchmarks/synfire.py runs the full >= 20-seed sweeps.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from yuragi.cli import main
from yuragi.errors import CompileError, ModelError
from yuragi.models import BUILTIN_MODELS, builtin_model
from yuragi.models.synfire import (
    SynfireParams,
    background_weight,
    chain_packets,
    chain_steps,
    fit_half_survival,
    layer_map,
    layer_map_network,
    peak_matched_tau_syn,
    run_chain,
    synfire_chain,
)
from yuragi.models.synfire.analysis import (
    HALF_WINDOW_MS,
    LayerMap,
    packet_in_window,
    packets_from_times,
)
from yuragi.models.synfire.params import dga_membrane_variance, exp_psp_peak_time

P = SynfireParams()


# ------------------------------------------------------------ the lowering


def _euler_psps(p: SynfireParams, h: float = 1e-4, t_max: float = 40.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PSPs of one chain spike by direct Euler integration (independent of params.psp_kernels)."""
    n = int(t_max / h)
    t = np.arange(n) * h
    y, x, v_a = p.J, 0.0, 0.0
    u, v_e = p.chain_weight, 0.0
    va, ve = np.empty(n), np.empty(n)
    for i in range(n):  # paper: tau_psp x' = -x + y, y' = -y/tau_psp, tau_m V' = -V + x
        va[i], ve[i] = v_a, v_e
        y, x, v_a = y - h * y / p.tau_psp, x + h * (y - x) / p.tau_psp, v_a + h * (x - v_a) / p.tau_mem
        u, v_e = u - h * u / p.psc_tau, v_e + h * (u - v_e / p.tau_mem)  # IR: u' = -u/tau_syn, v' = -v/tau_m + u
    return t, va, ve


def test_alpha_psc_lowering_keeps_charge_and_peak_time():
    t, alpha, expo = _euler_psps(P)
    h = t[1]
    # same charge: the PSP areas (charge x tau_m) agree
    assert np.sum(expo) * h == pytest.approx(np.sum(alpha) * h, rel=5e-3)
    # PSP peak at the same time (0.554 ms PSC), 0.137 mV paper peak (ModelDB: 0.14 mV)
    assert t[np.argmax(expo)] == pytest.approx(t[np.argmax(alpha)], abs=0.01)
    assert alpha.max() == pytest.approx(0.137, abs=0.001)
    assert 0.96 < expo.max() / alpha.max() < 0.99  # documented: 2.6 % lower
    assert peak_matched_tau_syn() == pytest.approx(0.5542, abs=1e-4)
    assert exp_psp_peak_time(P.psc_tau, P.tau_mem) == pytest.approx(t[np.argmax(alpha)], abs=0.01)


def test_drift_gives_the_papers_mean_membrane_potential():
    assert P.bias * P.tau_mem == pytest.approx(P.mu * P.tau_psp)
    assert P.v_rest + P.free_mean == pytest.approx(-61.79, abs=0.01)  # models.md B2: about -61.8 mV


def test_paper_membrane_variance_matches_a_simulated_sde():
    """dga_membrane_variance (an integral) against Euler-Maruyama of the paper's free membrane."""
    rng = np.random.default_rng(3)
    h, n, steps, burn = 0.02, 1000, 25000, 5000
    y = np.full(n, P.mu * P.tau_psp)
    x = y.copy()
    v = np.full(n, P.free_mean)
    acc = []
    for k in range(steps):
        y, x, v = (y + h * (-y / P.tau_psp + P.mu) + P.sigma * math.sqrt(h) * rng.standard_normal(n),
                   x + h * (y - x) / P.tau_psp, v + h * (x - v) / P.tau_mem)
        if k >= burn and k % 25 == 0:
            acc.append(v.copy())
    sample = np.concatenate(acc)
    assert sample.mean() == pytest.approx(P.free_mean, abs=0.05)
    assert sample.var() == pytest.approx(dga_membrane_variance(P), rel=0.05)


def test_background_sources_give_the_papers_membrane_variance():
    """The IR membrane (Euler form of docs/ir.md) driven by the Bernoulli background sources."""
    rng = np.random.default_rng(5)
    n, steps, burn = 2000, 6000, 1000
    q = P.bg_rate_hz * P.dt / 1000.0
    c = background_weight(P)
    ru, rv = 1 - P.dt / P.psc_tau, 1 - P.dt / P.tau_mem
    u = np.zeros(n)
    v = np.full(n, P.free_mean)
    acc = []
    for k in range(steps):
        jumps = c * ((rng.random((n, P.bg_sources)) < q).sum(1) - (rng.random((n, P.bg_sources)) < q).sum(1))
        u = u * ru + jumps
        v = v * rv + P.dt * (u + P.bias)
        if k >= burn and k % 20 == 0:
            acc.append(v.copy())
    sample = np.concatenate(acc)
    assert sample.mean() == pytest.approx(P.free_mean, abs=0.05)
    assert sample.var() == pytest.approx(dga_membrane_variance(P), rel=0.05)
    assert math.sqrt(dga_membrane_variance(P)) == pytest.approx(2.78, abs=0.01)


def test_params_reject_bad_values_naming_the_field():
    with pytest.raises(ModelError, match="'group_size'"):
        SynfireParams(group_size=0).checked()
    with pytest.raises(ModelError, match="'bg_rate_hz'"):
        SynfireParams(bg_rate_hz=20000.0).checked()
    with pytest.raises(ModelError, match="'tau_syn'"):
        SynfireParams(tau_syn=0.01).checked()
    with pytest.raises(ModelError, match="'v_cut'"):
        SynfireParams(v_cut=-60.0).checked()


# ------------------------------------------------------------ the networks


def test_chain_network_structure():
    net = synfire_chain(a=85, sigma_in=1.0, gate_rate_hz=10.0, seed=4)
    assert [p.name for p in net.populations] == ["chain", "bg", "packet", "gate"]
    chain = net.population("chain")
    assert chain.size == 1000 and chain.model.v_th == 15.0 and chain.model.refractory == 10
    assert chain.model.tau_syn == pytest.approx(0.5542, abs=1e-4) and chain.model.bias == pytest.approx(0.8213, abs=1e-4)
    cc = net.projection("chain->chain")
    assert cc.n_synapses == 9 * 100 * 100 and int(cc.delays) == 50
    w = cc.weights
    assert np.all(w.post // 100 == w.pre // 100 + 1)  # group k -> k+1 only
    assert np.allclose(w.values, P.J * P.tau_psp / (P.tau_mem * P.psc_tau))
    bg = net.projection("bg->chain").weights
    assert bg.nnz == 2000 and np.all(np.bincount(bg.post) == 2) and np.isclose(bg.values.sum(), 0.0)
    pk = net.population("packet").model
    assert pk.steps.size == 85 and np.unique(pk.indices).size == 85
    assert abs(pk.steps.mean() * P.dt - P.packet_t_ms) < 0.5
    assert net.projection("packet->chain").weights.post.max() == 99  # into group 1 only
    gate = net.projection("gate->chain")
    assert np.asarray(gate.weights).shape == (1000, 100) and np.allclose(gate.weights, -P.chain_weight)


def test_chain_is_reproducible_and_background_independent_of_gate():
    from yuragi.backends.brian2.reference import network_rasters

    a, b = synfire_chain(seed=3), synfire_chain(seed=3)
    assert a == b
    gated = synfire_chain(seed=3, gate_rate_hz=20.0)
    ra, rg = network_rasters(a, 200), network_rasters(gated, 200)
    assert np.array_equal(ra["bg"], rg["bg"]) and np.array_equal(ra["packet"], rg["packet"])
    assert synfire_chain(seed=4).population("packet").model != a.population("packet").model


def test_eif_chain_model():
    net = synfire_chain(neuron="eif", params=SynfireParams(eif_J_factor=1.5))
    m = net.population("chain").model
    assert type(m).__name__ == "EIF"
    assert (m.v_T, m.delta_T, m.v_th) == pytest.approx((18.48, 3.48, 40.0))
    assert np.allclose(net.projection("chain->chain").weights.values, 1.5 * P.chain_weight)


@pytest.mark.parametrize("kwargs, match", [
    (dict(neuron="hh"), "neuron model must be one of lif, eif"),
    (dict(a=-1), "packet size 'a'"),
    (dict(sigma_in=-0.5), "packet spread 'sigma_in'"),
    (dict(gate_rate_hz=20000.0), "gate rate must be <= 1000/dt = 10000 Hz"),
])
def test_chain_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ModelError, match=match):
        synfire_chain(**kwargs)


def test_registered_builtin_model():
    assert "synfire" in BUILTIN_MODELS
    net = builtin_model("synfire", a=48, gate_rate_hz=5.0)
    assert net.population("packet").model.steps.size == 48 and net.population("gate").size == 100


def test_compiles_for_loihi1_and_loihi2_lif_only():
    from yuragi.compiler import compile_network

    net = synfire_chain(seed=2)
    c1, _ = compile_network(net, "loihi1")
    c2, _ = compile_network(net, "loihi2")
    for c in (c1, c2):
        pop = c.population("chain")
        assert pop.vth == 2**14 and pop.refractory == 10
    with pytest.raises(CompileError, match="EIF cannot run on Loihi 1"):
        compile_network(synfire_chain(neuron="eif"), "loihi1")


def test_layer_map_network_blocks():
    net = layer_map_network([(90, 0.5), (20, 2.0)], trials=3, seed=2)
    assert net.population("layer").size == 600
    w = net.projection("packet->layer").weights
    assert w.nnz == 6 * 100 * 100 and np.all(w.pre // 100 == w.post // 100)
    pk = net.population("packet").model
    counts = np.bincount(pk.indices // 100, minlength=6)
    assert counts.tolist() == [90, 90, 90, 20, 20, 20]
    with pytest.raises(ModelError, match="exceeds the group size"):
        layer_map_network([(120, 1.0)])


# ------------------------------------------------------------ the analysis


def test_packet_measure_recovers_a_gaussian_packet_in_background():
    rng = np.random.default_rng(1)
    packet = 40.0 + 0.5 * rng.standard_normal(90)
    background = rng.uniform(0, 80, 16)  # 2 Hz x 100 neurons x 80 ms
    times = np.sort(np.concatenate([packet, background]))
    a, sigma, centre = packet_in_window(times, 30.0, 45.0)
    in_window = np.sum(np.abs(background - centre) <= HALF_WINDOW_MS)
    assert a == 90 + in_window
    assert centre == pytest.approx(40.0, abs=0.2)
    assert 0.4 < sigma < 1.2
    assert packet_in_window(times, 60.0, 61.0)[0] <= 16
    empty = packet_in_window(np.array([]), 0, 10)
    assert empty[0] == 0 and math.isnan(empty[1]) and math.isnan(empty[2])


def test_packets_follow_the_chain_and_stop_following_noise():
    p = SynfireParams(n_groups=3)
    live = [np.full(50, 11.0), np.full(60, 17.5), np.full(70, 24.0)]
    st = packets_from_times(live, p)
    assert st.a.tolist() == [50, 60, 70] and np.allclose(st.centre, [11.0, 17.5, 24.0]) and np.allclose(st.sigma, 0)
    dead = [np.array([9.0, 10.0]), np.array([]), np.array([60.0, 61.0])]  # late cluster outside the windows
    st = packets_from_times(dead, p)
    assert st.a.tolist() == [2, 0, 0] and not st.survived


def test_fit_half_survival_on_known_logistic():
    rates = np.arange(0, 41, 5.0)
    frac = 1 / (1 + np.exp((rates - 17.0) / 2.0))
    n = 1000
    fit = fit_half_survival(rates, np.round(frac * n).astype(int), [n] * len(rates))
    assert fit["nu50_logistic"] == pytest.approx(17.0, abs=0.2)
    assert fit["slope_hz"] == pytest.approx(2.0, abs=0.2)
    assert fit["nu50_interp"] == pytest.approx(17.0, abs=1.0)


def test_layer_map_separatrix_of_a_known_map():
    """A map whose fixed points are a=0 and a=100 with a saddle at a = 40 + 10 sigma."""
    a_in = np.linspace(0, 100, 11)
    s_in = np.linspace(0, 3, 7)
    aa, ss = np.meshgrid(a_in, s_in, indexing="ij")
    sep = 40 + 10 * ss
    a_out = np.clip(aa + 0.5 * (aa - sep), 0, 100)
    m = LayerMap(a_in, s_in, a_out, ss.copy(), trials=1)
    assert np.allclose(m.separatrix_a(), 40 + 10 * s_in, atol=2.0)


# ------------------------------------------------------------ behaviour


@pytest.mark.parametrize("backend", ["brian2-float", "emulator"])
def test_a85_propagates_and_a48_dies(backend):
    """Issue #10 targets on the first two seeds (benchmarks/synfire.py: 20 seeds).

    a = 48 lies ~6 spikes below the separatrix: over 20 seeds 2 (float) and
    4 (quantized) of its packets do cross it (docs/models/synfire.md); seeds
    1 and 2 are the first two, not picked.
    """
    for seed in (1, 2):
        strong = run_chain(a=85, sigma_in=1.0, seed=seed, backend=backend).packets
        assert strong.a[-1] >= 80 and strong.sigma[-1] < 1.0, (seed, strong.to_dict())
        weak = run_chain(a=48, sigma_in=1.0, seed=seed, backend=backend).packets
        assert weak.a[-1] < 10, (seed, weak.to_dict())


def test_strong_gate_blocks_the_packet():
    for seed in (1, 2):
        gated = run_chain(a=85, sigma_in=1.0, gate_rate_hz=40.0, seed=seed, backend="emulator").packets
        assert not gated.survived, gated.to_dict()


def test_layer_map_smoke_on_the_emulator():
    m = layer_map([20, 95], [0.5], trials=4, backend="emulator", seed=3)
    assert m.a_out[1, 0] >= 85 and m.sigma_out[1, 0] < 1.0
    assert m.a_out[0, 0] < 15


def test_brian2_exact_matches_the_emulator_on_a_gated_chain():
    """Bit-exact check of the compiled LIF chain (delays, refractory, mixed-sign background, gate)."""
    from yuragi.backends import get_backend
    from yuragi.compiler import compile_network

    compiled, _ = compile_network(synfire_chain(a=85, sigma_in=1.0, gate_rate_hz=12.0, seed=1), "loihi1")
    exact = get_backend("brian2").run(compiled, chain_steps())
    emu = get_backend("emulator").run(compiled, chain_steps())
    assert exact.spikes["chain"] == emu.spikes["chain"] and emu.spikes["chain"].count > 500


@pytest.mark.slow
def test_lava_matches_the_emulator_bit_for_bit_and_meets_the_targets():
    from yuragi.backends import get_backend
    from yuragi.compiler import compile_network

    for a, seed in ((85, 1), (48, 1)):
        compiled, _ = compile_network(synfire_chain(a=a, sigma_in=1.0, seed=seed), "loihi2")
        lava = get_backend("lava").run(compiled, chain_steps())
        emu = get_backend("emulator").run(compiled, chain_steps())
        assert lava.spikes["chain"] == emu.spikes["chain"]
        st = chain_packets(lava)
        assert (st.a[-1] >= 80 and st.sigma[-1] < 1.0) if a == 85 else st.a[-1] < 10


# ------------------------------------------------------------ the CLI


def _cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_cli_run_synfire_options(tmp_path, capsys):
    png = tmp_path / "r.png"
    code, out, err = _cli(capsys, "run", "synfire", "--packet-a", "48", "--packet-sigma", "1", "--seed", "2", "--plot", str(png), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["steps"] == chain_steps() == 1000 and doc["packets"]["survived"] is False and len(doc["packets"]["a"]) == 10
    assert png.read_bytes()[:4] == b"\x89PNG"
    code, out, err = _cli(capsys, "run", "synfire", "--gate-rate", "5", "--steps", "300")
    assert code == 0, err
    assert "packet per group" in out and "op counters" in out


def test_cli_synfire_options_are_rejected_elsewhere(capsys):
    code, _, err = _cli(capsys, "run", "chain", "--packet-a", "3")
    assert code == 2 and err.count("\n") == 1 and "--packet-a: only for the built-in model 'synfire'" in err
    code, _, err = _cli(capsys, "run", "synfire", "--neuron", "hh")
    assert code == 2 and "hh" in err


@pytest.mark.parametrize("neuron", ["lif", "eif"])
def test_euler_float_tracks_the_fixed_point_program(neuron):
    """models/synfire/euler.py (float64 Euler of docs/ir.md) vs the emulator (integers): same model up to rounding.

    For the EIF chain this is the float form of the Loihi 2 neuron program (exponential term from v[t-1]).
    """
    from yuragi.backends import get_backend
    from yuragi.compiler import compile_network
    from yuragi.models.synfire.euler import run_euler

    net = synfire_chain(a=85, sigma_in=1.0, neuron=neuron, seed=1)
    steps = chain_steps()
    ref = run_euler(net, steps).spikes["chain"].raster(steps)
    compiled, _ = compile_network(net, "loihi2")
    fixed = get_backend("emulator").run(compiled, steps).spikes["chain"].raster(steps)
    assert np.array_equal(ref[:40], fixed[:40])  # identical until rounding first flips a threshold crossing
    assert abs(int(ref.sum()) - int(fixed.sum())) <= 0.01 * ref.sum()
    assert (ref & fixed).sum() >= 0.7 * ref.sum()

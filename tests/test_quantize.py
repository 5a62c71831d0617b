"""Quantization to Lava's bit-accurate integers, checked against Lava's own arithmetic.

Lava references (lava-nc 0.10.0): ``lava/utils/weightutils.py`` (clip_weights,
truncate_weights, SignMode), ``lava/proc/dense/models.py`` (PyDenseModelBitAcc),
``lava/proc/lif/models.py`` (PyLifModelBitAcc). One test runs real Lava
processes on ``Loihi2SimCfg(select_tag="fixed_pt")``; the numpy reference step
used by the other tests is checked against that run.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lava.utils.weightutils import SignMode, clip_weights, truncate_weights

from yuragi.compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from yuragi.compiler.quantize import (
    QuantizedNetwork,
    effective_weights,
    quantize,
    round_half_away,
    split_bias,
    u_decay,
    u_retention,
    v_decay,
    v_retention,
    weight_grid,
)
from yuragi.errors import CompileError
from yuragi.ir import EIF, LIF, NetworkBuilder, PlasticityProgram, RasterInput, SparseWeights, StochasticBinary

PROFILES = ("loihi1", "loihi2")
SIGNS = {SIGN_MIXED: (-1.0, 1.0), SIGN_EXCITATORY: (0.05, 1.0), SIGN_INHIBITORY: (-1.0, -0.05)}


# ------------------------------------------------------------------ helpers


def lava_clip_truncate(w: np.ndarray, nb: int, sign_mode: int) -> np.ndarray:
    """What PyDenseModelBitAcc.run_spk does to its weights on the first step."""
    mode = SignMode(sign_mode)
    return truncate_weights(clip_weights(w, mode, num_bits=8), mode, nb)


def dense_a_out(w: np.ndarray, weight_exp: int, spikes: np.ndarray) -> np.ndarray:
    """PyDenseModelBitAcc: sum the weights of the spiking inputs, then shift the sum."""
    acc = w[:, spikes.astype(bool)].sum(axis=1).astype(np.int64)
    return np.left_shift(acc, weight_exp) if weight_exp > 0 else np.right_shift(acc, -weight_exp)


def lif_step(u, v, a_in, pop):
    """One step of PyLifModelBitAcc (AbstractPyLifModelFixed.subthr_dynamics + spiking), int64 numpy."""
    u = np.asarray(u, np.int64) * (4096 - (pop.du + 1))
    u = np.sign(u) * (np.abs(u) >> 12) + (np.asarray(a_in, np.int64) << 6)
    u = np.where(u > 2**23, u - 2**24, u)
    u = np.where(u <= -(2**23), u + 2**24, u)
    v = np.asarray(v, np.int64) * (4096 - pop.dv)
    v = np.sign(v) * (np.abs(v) >> 12) + u + (pop.bias_mant << pop.bias_exp)
    v = np.clip(v, -(2**23) + 1, 2**23 - 1)
    s = v > (pop.vth << 6)
    return u, np.where(s, 0, v), s


def single_projection_net(weights, model=None, name="p", dt=1.0, **connect):
    n_post, n_pre = np.shape(weights) if not isinstance(weights, SparseWeights) else (8, 8)
    b = NetworkBuilder("q", dt=dt)
    b.input("src", n_pre, RasterInput(raster=np.zeros((1, n_pre), bool)))
    b.population("dst", n_post, model or LIF())
    b.connect("src", "dst", weights, name=name, **connect)
    return b.build()


def random_signed(rng, sign_mode, shape, scale=2.0):
    lo, hi = SIGNS[sign_mode]
    return scale * rng.uniform(lo, hi, size=shape)


# ------------------------------------------------------ weights vs Lava's Dense


@pytest.mark.parametrize("sign_mode", [SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY])
@pytest.mark.parametrize("nb", range(1, 9))
def test_every_sign_mode_and_width_is_left_unchanged_by_lava(sign_mode, nb, l2):
    rng = np.random.default_rng(nb * 10 + sign_mode)
    w = random_signed(rng, sign_mode, (12, 20))
    q = quantize(single_projection_net(w), l2, weight_bits={"p": nb})
    proj = q.projection("p")
    assert (proj.num_weight_bits, proj.sign_mode) == (nb, sign_mode)
    assert l2.bits.weight_exp_min <= proj.weight_exp <= l2.bits.weight_exp_max
    matrix = proj.dense_matrix()
    np.testing.assert_array_equal(lava_clip_truncate(matrix, nb, sign_mode), matrix)
    # the Dense output is linear in the spikes: shifting the sum == summing the shifted weights
    eff = effective_weights(matrix, proj.weight_exp)
    for _ in range(5):
        s = rng.random(20) < 0.5
        np.testing.assert_array_equal(dense_a_out(matrix, proj.weight_exp, s) << 6, eff[:, s].sum(axis=1))


def test_weight_grid_matches_lava_truncation():
    for mode in (SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY):
        for nb in range(1, 9):
            shift, k_min, k_max = weight_grid(nb, mode)
            grid = np.arange(k_min, k_max + 1) << shift
            np.testing.assert_array_equal(lava_clip_truncate(grid, nb, mode), grid)
            # every other integer in Lava's 9-bit range maps onto the grid, whose ends are Lava's ends
            everything = lava_clip_truncate(np.arange(-300, 300), nb, mode)
            assert set(np.unique(everything)) <= set(grid)
            assert everything.min() == grid.min() and everything.max() == grid.max()


def test_lava_processes_compute_what_the_integers_predict(l2):
    """Real Lava run: RingBuffer -> 3 Dense (exc 5 bits, inh 8 bits, mixed 8 bits w/ negative weight_exp) -> LIF."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF as LavaLIF

    rng = np.random.default_rng(7)
    n_pre, n_post, steps = 6, 4, 6
    raster = rng.random((steps, n_pre)) < 0.5
    b = NetworkBuilder("lava", dt=1.0)
    b.input("src", n_pre, RasterInput(raster=raster))
    b.population("dst", n_post, LIF(tau_mem=10.0, tau_syn=4.0, v_th=10.0, bias=0.3), initial_v=rng.uniform(0, 5, n_post))
    b.connect("src", "dst", rng.uniform(0.5, 3.0, (n_post, n_pre)), name="exc")
    b.connect("src", "dst", rng.uniform(-2.0, -0.1, (n_post, n_pre)), name="inh")
    b.connect("src", "dst", rng.uniform(-0.07, 0.07, (n_post, n_pre)), name="small")
    q = quantize(b.build(), l2, weight_bits={"exc": 5})
    pop = q.population("dst")
    projs = [q.projection(n) for n in ("exc", "inh", "small")]
    assert [p.sign_mode for p in projs] == [SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED]
    assert projs[2].weight_exp < 0  # exercises the right shift of the summed activation

    src = RingBuffer(data=raster.T.astype(int))
    lif = LavaLIF(shape=(n_post,), du=pop.du, dv=pop.dv, vth=pop.vth, bias_mant=pop.bias_mant.copy(),
                  bias_exp=pop.bias_exp, u=0, v=pop.v_init.copy())
    dense = []
    for p in projs:
        d = Dense(weights=p.dense_matrix(), num_weight_bits=p.num_weight_bits, weight_exp=p.weight_exp,
                  sign_mode=SignMode(p.sign_mode))
        src.s_out.connect(d.s_in)
        d.a_out.connect(lif.a_in)
        dense.append(d)

    # numpy prediction from our integers alone (Lava: step t receives the spikes of step t-1)
    u, v = pop.u_init.copy(), pop.v_init.copy()
    predicted, n_spikes = [], 0
    for t in range(steps):
        a_in = sum(dense_a_out(p.dense_matrix(), p.weight_exp, raster[t - 1]) for p in projs) if t else 0
        u, v, s = lif_step(u, v, a_in, pop)
        predicted.append((u.copy(), v.copy()))
        n_spikes += int(s.sum())
    assert n_spikes > 0  # the run exercises threshold and reset too
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    try:
        for t in range(steps):
            lif.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
            np.testing.assert_array_equal(lif.u.get().astype(np.int64), predicted[t][0], err_msg=f"u at step {t + 1}")
            np.testing.assert_array_equal(lif.v.get().astype(np.int64), predicted[t][1], err_msg=f"v at step {t + 1}")
        for d, p in zip(dense, projs):
            np.testing.assert_array_equal(d.weights.get().astype(np.int64), p.dense_matrix())
    finally:
        lif.stop()


@pytest.mark.parametrize("sign_mode", [SIGN_MIXED, SIGN_EXCITATORY])
def test_relative_error_decreases_with_weight_bits(sign_mode, l2):
    rng = np.random.default_rng(3)
    w = random_signed(rng, sign_mode, (30, 40))
    net = single_projection_net(w)
    errors = [quantize(net, l2, weight_bits={"p": nb}).report.projection("p").rms_rel_error for nb in range(1, 9)]
    assert all(a >= b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.01 < errors[0]


def test_wide_weight_range_reports_zeroed_weights(l2):
    w = np.geomspace(1e-5, 2.0, 40).reshape(4, 10)
    row = quantize(single_projection_net(w), l2).report.projection("p")
    assert row.n_zeroed > 0 and row.n_clipped == 0
    assert row.max_abs_rel_error == 1.0
    assert row.n_synapses == 40
    assert row.sign_mode == "excitatory"


def test_weights_beyond_the_widest_exponent_are_clipped_and_counted(l2):
    # a weight 1e6 times the threshold: the scale is capped by rule 3, so nothing clips ...
    w = np.array([[1e-3, 1e4]])
    q = quantize(single_projection_net(w), l2)
    assert q.report.projection("p").n_clipped == 0
    assert q.report.population("dst").scale_limited_by == "weights of projection 'p'"
    # ... except 1-bit mixed weights, which cannot hold a positive value at all
    q = quantize(single_projection_net(np.array([[-1.0, 1.0]])), l2, weight_bits={"p": 1})
    row = q.report.projection("p")
    assert row.n_clipped == 1 and row.n_zeroed == 1
    assert list(q.projection("p").weights) == [-256, 0]


def test_quantized_weights_are_nearest_on_the_grid(l2):
    rng = np.random.default_rng(11)
    w = rng.uniform(-1.5, 1.5, (10, 10))
    q = quantize(single_projection_net(w), l2, weight_bits={"p": 6})
    proj, pop, row = q.projection("p"), q.population("dst"), q.report.projection("p")
    w_q = effective_weights(proj.weights, proj.weight_exp) / (pop.scale * 1.0)
    assert np.max(np.abs(w_q - w[proj.post_idx, proj.pre_idx])) <= row.weight_step / 2 + 1e-12
    assert row.max_abs_error <= row.weight_step / 2 + 1e-12


# ------------------------------------------------------------------ neurons


@pytest.mark.parametrize("dt", [1.0, 0.1])
@pytest.mark.parametrize("tau", [1.0, 2.0, 3.0, 5.0, 20.0, 100.0, 1000.0, math.inf])
def test_decays(tau, dt):
    if tau < dt:
        return
    du, dv = u_decay(tau, dt), v_decay(tau, dt)
    assert 0 <= du <= 4095 and 0 <= dv <= 4095
    wanted = 1.0 if math.isinf(tau) else 1.0 - dt / tau
    half_lsb = 0.5 / 4096
    if math.isinf(tau):
        assert dv == 0 and v_retention(dv) == 1.0  # exactly no decay
        assert du == 0 and u_retention(du) == 4095 / 4096  # the least decay Lava's u can do
    elif tau == dt:
        assert du == 4095 and u_retention(du) == 0.0
        assert dv == 4095 and v_retention(dv) == 1 / 4096  # dm_offset = 0: v cannot lose everything
    elif wanted > 4095 / 4096:  # slower than Lava's slowest current decay: du = 0
        assert du == 0 and abs(v_retention(dv) - wanted) <= half_lsb
    else:
        assert abs(u_retention(du) - wanted) <= half_lsb
        assert abs(v_retention(dv) - wanted) <= half_lsb
    # Lava's decay multiply on a large state is the retention factor (to 1 unit)
    big = np.int64(3_000_000)
    assert abs((big * (4096 - (du + 1)) >> 12) - big * u_retention(du)) < 1
    assert abs((big * (4096 - dv) >> 12) - big * v_retention(dv)) < 1


def test_decay_errors_in_report(l2):
    b = NetworkBuilder("d", dt=1.0)
    b.population("a", 2, LIF(tau_mem=math.inf, tau_syn=math.inf))
    b.population("b", 2, LIF(tau_mem=20.0, tau_syn=5.0))
    report = quantize(b.build(), l2).report
    a, bb = report.population("a"), report.population("b")
    assert (a.dv, a.dv_error, a.tau_mem_eff) == (0, 0.0, math.inf)
    assert (a.du, a.du_error, a.tau_syn_eff) == (0, 1 / 4096, 4096.0)
    assert bb.du_error < 1e-4 and bb.dv_error < 1e-4
    assert abs(bb.tau_mem_eff - 20.0) < 0.05 and abs(bb.tau_syn_eff - 5.0) < 0.01
    assert report.to_dict()["populations"][0]["tau_mem_eff"] is None


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-(4095 * 128), max_value=4095 * 128, allow_nan=False))
def test_bias_mantissa_exponent_round_trip(target):
    mant, exp, clipped = split_bias(target, 13, 7)
    assert not clipped
    assert -4096 <= mant <= 4095 and 0 <= exp <= 7
    assert abs((mant << exp) - target) <= 2 ** (exp - 1) + 1e-9  # nearest point of the grid
    if exp > 0:  # the finest exponent that fits was taken
        assert not -4096 <= int(round_half_away(target / 2 ** (exp - 1))) <= 4095


def test_bias_out_of_range_is_clipped_and_flagged():
    mant, exp, clipped = split_bias(1e9, 13, 7)
    assert clipped and (mant, exp) == (4095, 7)


def test_scale_rule(l2):
    b = NetworkBuilder("s", dt=1.0)
    b.population("plain", 3, LIF(v_th=10.0, bias=0.5), initial_v=[0.0, 5.0, 1e6])
    b.population("biased", 3, LIF(v_th=10.0, bias=40.0))
    q = quantize(b.build(), l2)
    plain, biased = q.report.population("plain"), q.report.population("biased")
    # rule 1: threshold at 2**20, so vth = 2**14 exactly
    assert plain.scale == 2**20 / 10.0 and plain.vth == 2**14 and plain.vth_error == 0.0
    assert plain.scale_limited_by.startswith("threshold headroom")
    assert plain.v_min == pytest.approx(-80.0, rel=1e-6) and plain.u_max == pytest.approx(80.0, rel=1e-6)
    assert plain.bias_error < 1e-3
    # initial v scaled by S and clipped to the 24-bit state
    pop = q.population("plain")
    assert list(pop.v_init) == [0, round(5.0 * plain.scale), 2**23 - 1]
    assert plain.n_v_init_clipped == 1
    # rule 2: a bias of 4 thresholds per step does not fit 13 bits << 7 at 2**20
    assert biased.scale_limited_by == "bias range"
    assert biased.bias_mant == 4095 and biased.bias_exp == 7 and biased.bias_error == 0.0
    assert biased.vth < 2**14


def test_lif_bias_and_threshold_through_lif_step(l2):
    """A neuron with only bias: the integer run reaches threshold on the same step as v = n * dt * bias."""
    b = NetworkBuilder("b", dt=1.0)
    b.population("x", 1, LIF(tau_mem=math.inf, v_th=10.0, bias=0.7))
    pop = quantize(b.build(), l2).population("x")
    u, v = pop.u_init, pop.v_init
    for step in range(1, 16):
        u, v, s = lif_step(u, v, 0, pop)
        assert bool(s[0]) == (step == 15)  # float: 0.7 * 15 = 10.5 > 10 first at step 15


def simulate_float(net, raster, steps):
    """The IR's float LIF semantics (yuragi/ir/neurons.py), spikes of every population."""
    dt = net.dt
    state, counts = {}, {}
    for pop in net.populations:
        if not pop.is_input:
            state[pop.name] = [np.zeros(pop.size), np.broadcast_to(pop.initial_v, (pop.size,)).astype(float)]
            counts[pop.name] = np.zeros(pop.size, int)
    prev = {p.name: np.zeros(p.size, bool) for p in net.populations}
    for t in range(steps):
        spikes = {}
        for pop in net.populations:
            if pop.is_input:
                spikes[pop.name] = raster[t]
                continue
            m = pop.model
            u, v = state[pop.name]
            syn = sum(proj.dense_weights(pop.size, net.population(proj.pre).size) @ prev[proj.pre]
                      for proj in net.incoming(pop.name)) if net.incoming(pop.name) else 0.0
            u = u * (1 - dt / m.tau_syn) + syn
            v = v * (1 - dt / m.tau_mem) + dt * (u + m.bias)
            s = v > m.v_th
            v = np.where(s, 0.0, v)
            state[pop.name] = [u, v]
            counts[pop.name] += s
            spikes[pop.name] = s
        prev = spikes
    return counts


def simulate_int(q: QuantizedNetwork, raster, steps):
    """The compiled integers with the (Lava-checked) reference step; spike counts per population."""
    state = {p.name: [p.u_init.copy(), p.v_init.copy()] for p in q.populations if not p.is_input}
    counts = {name: np.zeros(len(s[0]), int) for name, s in state.items()}
    prev = {p.name: np.zeros(p.size, bool) for p in q.populations}
    for t in range(steps):
        spikes = {}
        for pop in q.populations:
            if pop.is_input:
                spikes[pop.name] = raster[t]
                continue
            a_in = sum(dense_a_out(p.dense_matrix(), p.weight_exp, prev[p.pre]) for p in q.projections if p.post == pop.name)
            u, v, s = lif_step(*state[pop.name], a_in, pop)
            state[pop.name] = [u, v]
            counts[pop.name] += s
            spikes[pop.name] = s
        prev = spikes
    return counts


def test_float_and_integer_lif_agree_on_spike_counts_with_constant_bias(l2):
    """Constant bias, 400 steps: spike counts equal within 1 spike (tolerance stated in the assert)."""
    b = NetworkBuilder("bias", dt=1.0)
    for i, bias in enumerate([0.55, 0.6, 0.8, 1.0, 2.0, 3.7, 5.0]):
        b.population(f"p{i}", 1, LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0, bias=bias))
    b.population("slow", 1, LIF(tau_mem=math.inf, tau_syn=5.0, v_th=10.0, bias=0.13))
    net = b.build()
    steps = 400
    f = simulate_float(net, None, steps)
    i = simulate_int(quantize(net, l2), None, steps)
    for name in f:
        assert abs(int(f[name][0]) - int(i[name][0])) <= 1, (name, f[name], i[name])
    assert sum(int(c[0]) for c in f.values()) > 300


def test_float_and_integer_lif_agree_on_spike_counts_with_input(l2):
    """Poisson-like raster through 8-bit weights into recurrent E/I LIF: total counts within 3 %."""
    rng = np.random.default_rng(5)
    steps, n_in = 300, 30
    raster = rng.random((steps, n_in)) < 0.05
    b = NetworkBuilder("drive", dt=1.0)
    b.input("in", n_in, RasterInput(raster=raster))
    b.population("e", 40, LIF(tau_mem=20.0, tau_syn=5.0, v_th=10.0))
    b.population("i", 10, LIF(tau_mem=10.0, tau_syn=3.0, v_th=8.0))
    b.connect("in", "e", rng.uniform(0.0, 1.5, (40, n_in)))
    b.connect("e", "i", rng.uniform(0.0, 0.8, (10, 40)))
    b.connect("i", "e", rng.uniform(-1.0, 0.0, (40, 10)))
    net = b.build()
    f = simulate_float(net, raster, steps)
    i = simulate_int(quantize(net, l2), raster, steps)
    for name in ("e", "i"):
        total_f, total_i = int(f[name].sum()), int(i[name].sum())
        assert total_f > 100
        assert abs(total_f - total_i) <= 0.03 * total_f, (name, total_f, total_i)


# ------------------------------------------------------ layout, kinds, report


def test_dense_and_sparse_storage(l2):
    w = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, -0.25]])
    delays = np.array([[1, 2, 3], [4, 5, 6]])
    proj = quantize(single_projection_net(w, delays=delays), l2).projection("p")
    assert proj.dense and proj.nnz == 3  # only the IR's synapses (non-zero float weights)
    assert list(zip(proj.post_idx, proj.pre_idx)) == [(0, 1), (1, 0), (1, 2)]
    assert list(proj.delays) == [2, 4, 6]
    assert proj.dense_matrix().shape == (2, 3) and proj.dense_matrix()[0, 0] == 0

    sparse = SparseWeights(pre=[0, 3, 5], post=[1, 1, 7], values=[0.4, 0.0, -0.2])
    proj = quantize(single_projection_net(sparse, delays=3), l2).projection("p")
    assert not proj.dense and proj.nnz == 3  # explicit zeros stay: they are synapses
    assert list(proj.pre_idx) == [0, 3, 5] and list(proj.post_idx) == [1, 1, 7]
    assert list(proj.delays) == [3, 3, 3] and proj.weights[1] == 0


def test_input_populations_are_sources(l2):
    model = RasterInput(raster=np.zeros((2, 4), bool))
    b = NetworkBuilder("i", dt=1.0)
    b.input("src", 4, model)
    pop = quantize(b.build(), l2).population("src")
    assert pop.is_input and pop.kind == "RasterInput" and pop.source == model and pop.size == 4


def test_stochastic_binary_population(l2):
    w = np.array([[1.5, -0.5, 0.25]])
    q = quantize(single_projection_net(w, model=StochasticBinary(temperature=0.5, bias=-0.3)), l2)
    pop, row = q.population("dst"), q.report.population("dst")
    assert pop.kind == "StochasticBinary"
    assert pop.scale == 2**16 / 0.5 and dict(row.extra)["temperature_int"] == 2**16
    assert pop.du == 4095 and u_retention(pop.du) == 0.0  # u holds exactly one step's input
    assert (pop.bias_mant[0] << pop.bias_exp) == pytest.approx(-0.3 * pop.scale, abs=2**pop.bias_exp)
    proj = q.projection("p")
    h = effective_weights(proj.weights, proj.weight_exp) / pop.scale  # dimensionless, no dt
    np.testing.assert_allclose(h, w[0], atol=q.report.projection("p").weight_step / 2)


def test_eif_population(l2):
    q = quantize(single_projection_net(np.ones((2, 2)), model=EIF(v_T=10.0, v_th=20.0, delta_T=2.0)), l2)
    pop, row = q.population("dst"), q.report.population("dst")
    assert pop.kind == "EIF" and pop.vth == 2**14  # the cut-off is the threshold
    assert dict(row.extra) == {"v_T_int": 10.0 * pop.scale, "delta_T_int": 2.0 * pop.scale}


def test_plastic_projection_sign_mode_follows_initial_weights(l2):
    # single-signed weights keep their sign (the learning engine saturates at 0); all-zero weights are mixed
    prog = PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1")
    for w, mode in ((0.5, SIGN_EXCITATORY), (-0.5, SIGN_INHIBITORY), (0.0, SIGN_MIXED)):
        proj = quantize(single_projection_net(np.full((2, 2), w), plasticity=prog), l2).projection("p")
        assert proj.sign_mode == mode and proj.plasticity == prog and proj.num_weight_bits == 8
    mixed = quantize(single_projection_net(np.array([[0.5, -0.5]]), plasticity=prog), l2).projection("p")
    assert mixed.sign_mode == SIGN_MIXED


def test_report_is_json_safe(ei_net):
    q = quantize(ei_net, "loihi1")
    text = json.dumps(q.report.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert {r["name"] for r in data["populations"]} == {"exc", "inh"}
    assert len(data["projections"]) == len(ei_net.projections)


@pytest.mark.parametrize("profile", PROFILES)
def test_example_network_errors_are_small(ei_net, profile):
    q = quantize(ei_net, profile)
    for row in q.report.projections:
        assert row.rms_rel_error < 0.005 and row.n_clipped == 0 and row.n_zeroed == 0
    for row in q.report.populations:
        assert row.vth_error == 0.0 and row.du_error < 1e-4 and row.dv_error < 1e-4
    assert [p.name for p in q.populations] == [p.name for p in ei_net.populations]
    assert [p.name for p in q.projections] == [p.name for p in ei_net.projections]


def test_weight_bits_override_errors(ei_net):
    with pytest.raises(CompileError) as info:
        quantize(ei_net, "loihi2", weight_bits={"nope": 4, "exc->exc": 9, "exc->inh": 0})
    problems = info.value.problems
    assert len(problems) == 3
    assert "'nope'" in problems[0] and "does not exist" in problems[0]
    assert "projection 'exc->exc'" in problems[1] and "[1, 8]" in problems[1] and "9" in problems[1]
    assert "projection 'exc->inh'" in problems[2]

"""The emulator backend: bit-exact with the fixed-point semantics (docs/backends.md) and with Lava.

Three references:

* ``reference_run`` below: a straightforward per-step numpy transcription of
  docs/backends.md, written the way Lava's ``PyLifModelBitAcc`` /
  ``PyDenseModelBitAcc`` / ``PyDelayDenseModelBitAcc`` compute (dense weight
  matrices, int32 state, the same numpy calls), over >= 1000 steps;
* a real Lava run (``Loihi2SimCfg(select_tag="fixed_pt")``) of small networks
  without refractory period (Lava's LIF has none in fixed point);
* the Lava backend (``yuragi.backends.lava``) once it has a ``run``.

Counters are checked against :func:`yuragi.backends.counters.count_ops`.
"""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from yuragi.backends import emulator as em
from yuragi.backends.counters import COUNTER_DTYPE, count_ops
from yuragi.backends.emulator.synthetic import random_network
from yuragi.backends.inputs import network_input_rasters
from yuragi.compiler.compiled import (
    SIGN_EXCITATORY,
    SIGN_INHIBITORY,
    SIGN_MIXED,
    SIGN_NULL,
    CompiledNetwork,
    CompiledPopulation,
    CompiledProjection,
    CoreBlock,
)
from yuragi.compiler.quantize import quantize
from yuragi.errors import BackendError
from yuragi.hw_profiles import load_profile
from yuragi.ir import PoissonInput, Probe
from yuragi.ir.neurons import ExternalInput, RasterInput

ENGINES = ["numpy"] + (["numba"] if em.HAVE_NUMBA else [])
STEPS = 1000


# ============================================================ networks


def compile_simple(net, blocks=None) -> CompiledNetwork:
    """quantize + one core per non-input population (until compile_network lands)."""
    q = quantize(net, load_profile("loihi2"))
    pops = [p for p in q.populations if not p.is_input]
    if blocks is None:
        blocks = tuple(CoreBlock(p.name, 0, p.size, core=i, chip=0) for i, p in enumerate(pops))
    return CompiledNetwork(net.name, "loihi2", net.dt, net.seed, q.populations, q.projections, blocks=blocks, probes=net.probes)


def probe_all(c: CompiledNetwork) -> CompiledNetwork:
    """The same network probing spikes, u and v of every neuron population."""
    probes = [Probe(p.name, "spikes") for p in c.populations]
    probes += [Probe(p.name, var) for p in c.populations if not p.is_input for var in ("u", "v")]
    return dataclasses.replace(c, probes=tuple(probes))


def no_refractory(c: CompiledNetwork) -> CompiledNetwork:
    return dataclasses.replace(c, populations=tuple(dataclasses.replace(p, refractory=0) for p in c.populations))


def net_chain() -> CompiledNetwork:
    from yuragi.models.examples import chain

    return compile_simple(chain(seed=1))


def net_ei() -> CompiledNetwork:
    from yuragi.models.examples import ei_balanced

    return compile_simple(ei_balanced(seed=1))


def _pop(name, size, **kw) -> CompiledPopulation:
    return CompiledPopulation(name=name, kind="LIF", size=size, **kw)


def _proj(name, pre, post, n_pre, n_post, pre_idx, post_idx, weights, delays=1, **kw) -> CompiledProjection:
    return CompiledProjection(name, pre, post, n_pre, n_post, np.asarray(pre_idx), np.asarray(post_idx), np.asarray(weights), delays, **kw)


def net_handmade(refractory: int = 3) -> tuple[CompiledNetwork, dict]:
    """Everything the quantizer never produces but Lava accepts.

    Bias with exponent, du/dv extremes, initial u/v, a negative weight_exp on
    weights that are not multiples of its power of two (Lava floors the
    per-step sum: "slow" projection) with delays, SIGN_NULL weights that Lava
    truncates, zero-weight synapses (they count as events), an external input,
    one population split over cores on two chips with tiles.
    """
    rng = np.random.default_rng(11)
    steps = STEPS
    ext = (rng.random((steps, 12)) < 0.08)
    pops = (
        CompiledPopulation(name="ext", kind="ExternalInput", size=12, source=ExternalInput()),
        CompiledPopulation(name="poi", kind="PoissonInput", size=20, source=PoissonInput(rate_hz=[50.0])),
        _pop("a", 24, du=300, dv=100, vth=900, bias_mant=rng.integers(-40, 60, 24), bias_exp=3, refractory=refractory,
             v_init=rng.integers(-50000, 50000, 24), u_init=rng.integers(-9000, 9000, 24)),
        _pop("b", 10, du=4095, dv=0, vth=400, bias_mant=0, bias_exp=0, refractory=0),
        _pop("c", 7, du=0, dv=4095, vth=0, bias_mant=[5, 0, -3, 0, 7, 0, 1], bias_exp=6, refractory=1),
    )
    m_ea = rng.random((24, 12)) < 0.5
    post, pre = np.nonzero(m_ea)
    p_ea = _proj("ext->a", "ext", "a", 12, 24, pre, post, rng.integers(-256, 256, post.size), sign_mode=SIGN_NULL, num_weight_bits=5, weight_exp=1)
    m_pa = rng.random((24, 20)) < 0.3
    post, pre = np.nonzero(m_pa)
    p_pa = _proj("poi->a", "poi", "a", 20, 24, pre, post, rng.integers(0, 256, post.size), delays=rng.integers(1, 4, post.size),
                 sign_mode=SIGN_EXCITATORY, num_weight_bits=8, weight_exp=-3, dense=False)  # floored per (step, delay)
    m_ab = rng.random((10, 24)) < 0.4
    post, pre = np.nonzero(m_ab)
    w_ab = rng.integers(-256, 256, post.size)
    w_ab[::5] = 0  # zero-weight synapses
    p_ab = _proj("a->b", "a", "b", 24, 10, pre, post, w_ab, delays=rng.integers(1, 7, post.size), sign_mode=SIGN_MIXED, num_weight_bits=8, weight_exp=-2)
    p_ba = _proj("b->a", "b", "a", 10, 24, np.arange(10).repeat(3), np.tile(np.arange(3), 10) + 3 * (np.arange(30) // 3 % 7),
                 rng.integers(-255, 1, 30), sign_mode=SIGN_INHIBITORY, num_weight_bits=8, weight_exp=-1)  # floors negative sums
    p_bc = _proj("b->c", "b", "c", 10, 7, np.arange(7), np.arange(7), [255, 100, 37, 1, 0, 200, 255], delays=[1, 2, 3, 4, 5, 6, 7],
                 sign_mode=SIGN_EXCITATORY, num_weight_bits=7, weight_exp=0)
    blocks = (
        CoreBlock("a", 0, 10, core=0, chip=0, tile=(0, 0)),
        CoreBlock("a", 10, 24, core=1, chip=0, tile=(1, 2)),
        CoreBlock("b", 0, 10, core=3, chip=1, tile=(0, 1)),
        CoreBlock("c", 0, 7, core=1, chip=0, tile=(1, 2)),
    )
    c = CompiledNetwork("handmade", "loihi2", 1.0, 7, pops, (p_ea, p_pa, p_ab, p_ba, p_bc), blocks=blocks)
    return probe_all(c), {"ext": ext}


def net_overflow() -> tuple[CompiledNetwork, dict]:
    """Inputs large enough to wrap u at 24 bits and a_in << 6 at 32 bits, and clip v at both ends."""
    size = 1200
    raster = np.zeros((40, size), dtype=bool)
    raster[3] = True  # all 1200 sources at once: a_in = 1200 * (254 << 7) > 2**25
    raster[10, :600] = True
    raster[17, :7] = True
    raster[25, :200] = True
    pops = (
        CompiledPopulation(name="burst", kind="RasterInput", size=size, source=RasterInput(raster=raster, loop=True)),
        _pop("x", 4, du=10, dv=5, vth=100000, v_init=[0, 8000000, -8000000, 5], u_init=[8388000, -8388000, 0, 1]),
        _pop("y", 3, du=4094, dv=1, vth=2000),
    )
    n = size * 4
    pe = _proj("burst->x", "burst", "x", size, 4, np.tile(np.arange(size), 4), np.repeat(np.arange(4), size),
               np.array([254, 254, -256, 16] * size).reshape(size, 4).T.ravel(), sign_mode=SIGN_MIXED, num_weight_bits=8, weight_exp=7)
    pi = _proj("burst->y", "burst", "y", size, 3, np.tile(np.arange(size), 3), np.repeat(np.arange(3), size),
               np.array([-254, 254, -4] * size).reshape(size, 3).T.ravel(), sign_mode=SIGN_MIXED, num_weight_bits=8, weight_exp=4)
    assert pe.nnz == n
    blocks = (CoreBlock("x", 0, 4, core=0, chip=0), CoreBlock("y", 0, 3, core=0, chip=0))
    return probe_all(CompiledNetwork("overflow", "loihi2", 1.0, 0, pops, (pe, pi), blocks=blocks)), {}


def suite():
    """(id, compiled network, external inputs) of every network the backend tests run."""
    hand, hand_in = net_handmade()
    over, over_in = net_overflow()
    return [
        ("chain", probe_all(net_chain()), {}),
        ("ei_balanced", probe_all(net_ei()), {}),
        ("handmade", hand, hand_in),
        ("overflow", over, over_in),
        ("random200", probe_all(random_network(200, p=0.1, rate_hz=40.0, seed=3, max_delay=4)), {}),
    ]


SUITE = suite()
SUITE_IDS = [s[0] for s in SUITE]


# ============================================================ reference


def lava_weight_matrix(proj: CompiledProjection) -> np.ndarray:
    """Dense weights after Lava's own clip_weights / truncate_weights (int32, as PyDenseModelBitAcc holds them)."""
    from lava.utils.weightutils import SignMode, clip_weights, determine_sign_mode, truncate_weights

    w = proj.dense_matrix().astype(np.int32)
    mode = SignMode(proj.sign_mode) if proj.sign_mode != SIGN_NULL else determine_sign_mode(w)
    w = clip_weights(w, mode, num_bits=8)
    return truncate_weights(w, mode, proj.num_weight_bits)


def reference_run(c: CompiledNetwork, steps: int, rasters: dict) -> dict:
    """Per-step transcription of docs/backends.md in Lava's own numpy operations.

    Returns ``{"spikes": {pop: (steps, size) bool}, "u": {pop: (steps, size)}, "v": {...}}``.
    """
    lif = [p for p in c.populations if not p.is_input]
    state = {p.name: {"u": p.u_init.astype(np.int32).copy(), "v": p.v_init.astype(np.int32).copy(), "end": np.full(p.size, -1)} for p in lif}
    # pending[proj][t] = a_out (int32, after the weight_exp shift) that reaches the target at step t
    conns = []
    for proj in c.projections:
        W = lava_weight_matrix(proj)
        Dm = proj.delay_matrix()
        per_delay = {int(d): np.where(Dm == d, W, 0) for d in np.unique(proj.delays)} if proj.nnz else {}
        conns.append((proj, per_delay, np.zeros((steps + proj.max_delay + 1, proj.n_post), dtype=np.int32)))
    out = {"spikes": {p.name: np.zeros((steps, p.size), bool) for p in c.populations}, "u": {}, "v": {}}
    for p in lif:
        out["u"][p.name] = np.zeros((steps, p.size), np.int64)
        out["v"][p.name] = np.zeros((steps, p.size), np.int64)
    for name, raster in rasters.items():
        out["spikes"][name][:] = raster[:steps]
    for t in range(steps):
        a_in = {p.name: np.zeros(p.size, dtype=np.int16) for p in lif}
        for proj, _, pending in conns:
            a_in[proj.post] = a_in[proj.post] + pending[t]  # Lava InPort: int16 zeros + int32 a_out
        for p in lif:
            s = state[p.name]
            # --- AbstractPyLifModelFixed.subthr_dynamics
            decayed_curr = np.int64(s["u"]) * (4096 - (p.du + 1))
            decayed_curr = np.sign(decayed_curr) * np.right_shift(np.abs(decayed_curr), 12)
            decayed_curr = np.int32(decayed_curr)
            activation_in = np.left_shift(a_in[p.name], 6)
            decayed_curr += activation_in
            wrapped = np.where(decayed_curr > 2**23, decayed_curr - 2**24, decayed_curr)
            wrapped = np.where(wrapped <= -(2**23), decayed_curr + 2**24, wrapped)
            s["u"][:] = wrapped
            decayed_volt = np.int64(s["v"]) * (4096 - p.dv)
            decayed_volt = np.sign(decayed_volt) * np.right_shift(np.abs(decayed_volt), 12)
            decayed_volt = np.int32(decayed_volt)
            bias = np.left_shift(p.bias_mant.astype(np.int32), p.bias_exp)
            updated = np.clip(decayed_volt + s["u"] + bias, -(2**23) + 1, 2**23 - 1)
            active = s["end"] < t  # refractory: v held for `refractory` steps after a spike
            s["v"][active] = updated[active]
            spiked = s["v"] > (p.vth << 6)
            s["v"][spiked] = 0
            s["end"][spiked] = t + p.refractory
            out["spikes"][p.name][t] = spiked
            out["u"][p.name][t] = s["u"]
            out["v"][p.name][t] = s["v"]
        for proj, per_delay, pending in conns:
            s_in = out["spikes"][proj.pre][t]
            for d, Wd in per_delay.items():
                a_accum = Wd[:, s_in].sum(axis=1)  # PyDenseModelBitAcc: int64 sum
                e = proj.weight_exp
                a = np.left_shift(a_accum, e) if e > 0 else np.right_shift(a_accum, -e)
                if t + d < pending.shape[0]:
                    pending[t + d] += a.astype(np.int32)  # a_out is int32 (wraps)
    return out


def assert_matches_reference(result, ref: dict, c: CompiledNetwork) -> None:
    for pop in c.populations:
        got = result.raster(pop.name)
        want = ref["spikes"][pop.name]
        if not np.array_equal(got, want):
            t, i = np.argwhere(got != want)[0]
            raise AssertionError(f"spikes of '{pop.name}' differ first at step {t}, neuron {i}")
        if pop.is_input:
            continue
        for var in ("u", "v"):
            got_v = result.probes[f"{pop.name}.{var}"]
            if not np.array_equal(got_v, ref[var][pop.name]):
                t, i = np.argwhere(got_v != ref[var][pop.name])[0]
                raise AssertionError(f"{var} of '{pop.name}' differs first at step {t}, neuron {i}: {got_v[t, i]} != {ref[var][pop.name][t, i]}")


def assert_same_run(a, b) -> None:
    assert a.steps == b.steps and a.network == b.network
    assert set(a.spikes) == set(b.spikes)
    for k in a.spikes:
        assert a.spikes[k] == b.spikes[k], k
    assert set(a.probes) == set(b.probes)
    for k in a.probes:
        assert np.array_equal(a.probes[k], b.probes[k]), k
    assert set(a.counters) == set(b.counters)
    for k in a.counters:
        assert np.array_equal(a.counters[k], b.counters[k]), k


_RUNS: dict = {}


def run_cached(i: int, engine: str):
    key = (i, engine)
    if key not in _RUNS:
        _, c, ext = SUITE[i]
        _RUNS[key] = em.run(c, STEPS, inputs=ext, engine=engine)
    return _RUNS[key]


# ============================================================ bit-exactness


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("i", range(len(SUITE)), ids=SUITE_IDS)
def test_matches_reference(i, engine):
    _, c, ext = SUITE[i]
    result = run_cached(i, engine)
    ref = reference_run(c, STEPS, network_input_rasters(c, STEPS, ext))
    assert_matches_reference(result, ref, c)
    assert result.backend == "emulator" and result.steps == STEPS
    assert sum(ev.count for ev in result.spikes.values()) > 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("i", range(len(SUITE)), ids=SUITE_IDS)
def test_counters_equal_count_ops(i, engine):
    _, c, _ = SUITE[i]
    result = run_cached(i, engine)
    want = count_ops(c, {k: result.raster(k) for k in result.spikes}, STEPS)
    assert set(want) == set(result.counters)
    for k, v in want.items():
        assert result.counters[k].dtype == COUNTER_DTYPE
        assert np.array_equal(result.counters[k], v), k


@pytest.mark.skipif(not em.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("i", range(len(SUITE)), ids=SUITE_IDS)
def test_engines_agree(i):
    assert_same_run(run_cached(i, "numba"), run_cached(i, "numpy"))


def test_suite_exercises_corner_cases():
    """The suite really reaches the wraps, clips, refractory holds and floored shifts it claims to test."""
    over = run_cached(SUITE_IDS.index("overflow"), "numpy")
    u = over.probes["x.u"]
    assert u.max() > 2**23 or u.min() < -(2**23) + 1 or (np.abs(np.diff(u, axis=0)) > 2**23).any()  # wrapped
    v = over.probes["y.v"]
    assert v.min() == -(2**23) + 1  # clipped low
    assert over.probes["x.v"].max() == 2**23 - 1 or over.spikes["x"].count > 0
    hand = run_cached(SUITE_IDS.index("handmade"), "numpy")
    assert hand.meta.get("floored_projections") == ["poi->a", "a->b", "b->a"]
    assert hand.spikes["a"].count and hand.spikes["b"].count and hand.spikes["c"].count
    a = hand.spikes["a"]
    after = a.steps + 1
    ok = after < STEPS
    assert (hand.probes["a.v"][after[ok], a.neurons[ok]] == 0).all()  # held at 0 (refractory 3)


# ============================================================ real Lava


def lava_run(c: CompiledNetwork, steps: int, rasters: dict) -> dict:
    """Run ``c`` as Lava processes (LIF, Dense/DelayDense, RingBuffer, Monitor) on Loihi2SimCfg fixed_pt."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF as LavaLIF
    from lava.proc.monitor.process import Monitor
    from lava.utils.weightutils import SignMode

    procs, monitors = {}, []
    for pop in c.populations:
        if pop.is_input:
            procs[pop.name] = RingBuffer(data=rasters[pop.name][:steps].T.astype(np.int32))
        else:
            assert pop.refractory == 0, "Lava's fixed-point LIF has no refractory period"
            procs[pop.name] = LavaLIF(shape=(pop.size,), u=pop.u_init.copy(), v=pop.v_init.copy(), du=pop.du, dv=pop.dv,
                                      bias_mant=pop.bias_mant.copy(), bias_exp=pop.bias_exp, vth=pop.vth)
    for proj in c.projections:
        kw = dict(weights=proj.dense_matrix(), weight_exp=proj.weight_exp, num_weight_bits=proj.num_weight_bits)
        if proj.sign_mode != SIGN_NULL:
            kw["sign_mode"] = SignMode(proj.sign_mode)
        conn = DelayDense(delays=proj.delay_matrix() - 1, **kw) if proj.max_delay > 1 else Dense(**kw)
        procs[proj.pre].s_out.connect(conn.s_in)
        conn.a_out.connect(procs[proj.post].a_in)
    for pop in c.populations:
        if not pop.is_input:
            for var in ("s_out", "u", "v"):
                m = Monitor()
                m.probe(getattr(procs[pop.name], var), steps)
                monitors.append((pop.name, var, m))
    first = next(iter(procs.values()))
    first.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    try:
        out = {}
        for name, var, m in monitors:
            data = next(iter(m.get_data().values()))[var]
            out[(name, var)] = np.asarray(data).astype(np.int64)
    finally:
        first.stop()
    return out


def lava_suite():
    hand, hand_in = net_handmade(refractory=0)
    over, over_in = net_overflow()
    return [("chain_no_refractory", no_refractory(probe_all(net_chain())), {}), ("handmade", no_refractory(hand), hand_in), ("overflow", over, over_in)]


LAVA_SUITE = lava_suite()
SLOW = pytest.mark.slow


@pytest.mark.parametrize("i", [pytest.param(0, marks=SLOW, id="chain_no_refractory"), pytest.param(1, id="handmade"), pytest.param(2, id="overflow")])
def test_matches_real_lava(i):
    pytest.importorskip("lava")
    _, c, ext = LAVA_SUITE[i]
    steps = STEPS
    rasters = network_input_rasters(c, steps, ext)
    lava = lava_run(c, steps, rasters)
    result = em.run(c, steps, inputs=ext)
    for pop in c.populations:
        if pop.is_input:
            continue
        assert np.array_equal(lava[(pop.name, "s_out")] != 0, result.raster(pop.name)), f"spikes of {pop.name}"
        assert np.array_equal(lava[(pop.name, "u")], result.probes[f"{pop.name}.u"]), f"u of {pop.name}"
        assert np.array_equal(lava[(pop.name, "v")], result.probes[f"{pop.name}.v"]), f"v of {pop.name}"


def _lava_backend():
    try:
        module = importlib.import_module("yuragi.backends.lava")
    except Exception:
        return None
    return module if callable(getattr(module, "run", None)) else None


def on_grid(c: CompiledNetwork) -> CompiledNetwork:
    """The same network with every weight already on Lava's grid and an explicit sign mode (what the Lava backend accepts)."""
    from yuragi.backends.emulator.program import lava_weights

    projs = []
    for p in c.projections:
        w = lava_weights(p.weights, p.sign_mode, p.num_weight_bits, p.nnz < p.n_pre * p.n_post)
        mode = p.sign_mode
        if mode == SIGN_NULL:
            mode = SIGN_EXCITATORY if w.min() >= 0 else SIGN_INHIBITORY if w.max() <= 0 else SIGN_MIXED
        projs.append(dataclasses.replace(p, weights=w, sign_mode=mode))
    return dataclasses.replace(c, projections=tuple(projs))


@pytest.mark.parametrize("i", [pytest.param(i, id=name, marks=() if name in ("chain", "ei_balanced", "handmade", "overflow") else SLOW) for i, name in enumerate(SUITE_IDS)])
def test_matches_lava_backend(i):
    lava = _lava_backend()
    if lava is None:
        pytest.skip("yuragi.backends.lava has no run() yet")
    name, c, ext = SUITE[i]
    if name == "handmade":
        c = on_grid(c)
    try:
        want = lava.run(c, STEPS, inputs=ext)
    except BackendError as exc:
        pytest.skip(f"Lava backend cannot run this network: {exc}")
    got = run_cached(i, em.default_engine()) if name != "handmade" else em.run(c, STEPS, inputs=ext)
    for k in want.spikes:
        assert got.spikes[k] == want.spikes[k], f"spikes of {k}"
    for k in want.probes:
        if k.endswith((".u", ".v")):
            assert np.array_equal(got.probes[k], want.probes[k]), k
    for k in want.counters:
        assert np.array_equal(got.counters[k], want.counters[k]), k


# ============================================================ batch


@pytest.fixture(scope="module")
def batch_case():
    hand, _ = net_handmade()
    rng = np.random.default_rng(5)
    batch = (rng.random((5, 300, 12)) < 0.1)
    return hand, batch


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_equals_single_runs(batch_case, engine):
    c, batch = batch_case
    res = em.run_batch(c, 300, {"ext": batch}, engine=engine, detail=True, workers=2, chunk=2)
    assert len(res) == 5 and res.n_samples == 5
    for s in range(5):
        single = em.run(c, 300, inputs={"ext": batch[s]}, engine=engine)
        assert_same_run(res.result(s), single)
        for pop in c.populations:
            raster = single.raster(pop.name)
            assert np.array_equal(res.counts[pop.name][s], raster.sum(axis=0))
            first = np.where(raster.any(axis=0), raster.argmax(axis=0), -1)
            assert np.array_equal(res.first_spike[pop.name][s], first)
        for k, v in single.counters.items():
            assert np.array_equal(res.counters[k][s], v.sum(axis=0))
    assert not np.array_equal(res.counts["a"][0], res.counts["a"][1])  # samples really differ


def test_batch_summary_without_detail(batch_case):
    c, batch = batch_case
    full = em.run_batch(c, 300, {"ext": batch}, detail=True)
    summary = {e: em.run_batch(c, 300, {"ext": batch}, engine=e) for e in ENGINES}
    for res in summary.values():
        assert res.results == ()
        with pytest.raises(BackendError, match="detail=True"):
            res.result(0)
        for pop in c.populations:
            assert np.array_equal(res.counts[pop.name], full.counts[pop.name])
            assert np.array_equal(res.first_spike[pop.name], full.first_spike[pop.name])
        for k in full.counters:
            assert np.array_equal(res.counters[k], full.counters[k])
    res = summary[ENGINES[0]]
    pred = res.predict("a")
    assert pred.shape == (5,) and ((pred >= -1) & (pred < 24)).all()
    assert res.rates_hz("a").shape == (5, 24)
    assert np.array_equal(res.total("synaptic_ops"), res.counters["synaptic_ops"].sum(axis=1))


def test_batch_input_errors(batch_case):
    c, batch = batch_case
    with pytest.raises(BackendError, match="not an ExternalInput"):
        em.run_batch(c, 300, {"poi": batch})
    with pytest.raises(BackendError, match="shape"):
        em.run_batch(c, 300, {"ext": batch[:, :, :5]})
    with pytest.raises(BackendError, match="0/1"):
        em.run_batch(c, 300, {"ext": batch.astype(np.int64) * 2})
    with pytest.raises(BackendError, match="at least one"):
        em.run_batch(c, 300, {})


# ============================================================ interface and errors


def test_records_only_probed_variables():
    c = net_chain()  # probes: spikes of all, v of 'out'
    res = em.run(c, 200)
    assert set(res.probes) == {"out.v"}
    assert res.probes["out.v"].shape == (200, 8)
    assert set(res.spikes) == {"stim", "hidden", "out"}
    assert res.spikes["hidden"].size == 32
    ev = res.spikes["hidden"]
    assert np.all(np.diff(ev.steps * 32 + ev.neurons) > 0)  # sorted by (step, neuron)


def test_weight_probe_and_save_roundtrip(tmp_path):
    c = net_chain()
    c = dataclasses.replace(c, probes=c.probes + (Probe("stim->hidden", "w"),))
    res = em.run(c, 50)
    w = res.probes["stim->hidden.w"]
    assert w.shape == (50, c.projection("stim->hidden").nnz)
    assert np.array_equal(w[7], c.projection("stim->hidden").weights)
    from yuragi.backends.result import RunResult

    back = RunResult.load(res.save(tmp_path / "r.zip"))
    assert_same_run(back, res)


def test_prepared_program_reused():
    c = probe_all(net_ei())
    prog = em.prepare(c)
    assert em.prepare(prog) is prog
    assert_same_run(em.run(prog, 300), em.run(c, 300))


def test_progress_bar_same_result():
    c = probe_all(net_ei())
    assert_same_run(em.run(c, 300, progress=True), em.run(c, 300))


def test_event_buffer_growth():
    """A run with more spikes than the first event buffer holds grows it without losing events."""
    if not em.HAVE_NUMBA:
        pytest.skip("numba engine only")
    size = 70000  # initial buffer: max(2 * n, 65536) events
    pops = (
        CompiledPopulation(name="src", kind="RasterInput", size=size, source=RasterInput(raster=np.ones((1, size), bool), loop=True)),
        _pop("n", 2, vth=0, bias_mant=1, bias_exp=7),
    )
    c = CompiledNetwork("grow", "loihi2", 1.0, 0, pops, (), blocks=(CoreBlock("n", 0, 2, core=0, chip=0),))
    res = em.run(c, 5, engine="numba")
    assert res.spikes["src"].count == 5 * size
    assert res.spikes["n"].count == 10


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda c: dataclasses.replace(c, populations=tuple(dataclasses.replace(p, kind="EIF", source=None) if p.name == "hidden" else p for p in c.populations)), "population 'hidden': the EIF program needs the integer parameter"),
        (lambda c: dataclasses.replace(c, populations=tuple(dataclasses.replace(p, kind="StochasticBinary") if p.name == "out" else p for p in c.populations)), "population 'out': StochasticBinary"),
        (lambda c: dataclasses.replace(c, projections=tuple(dataclasses.replace(p, release_prob=1.5) if p.name == "hidden->out" else p for p in c.projections)), "projection 'hidden->out': release_prob"),
        (lambda c: dataclasses.replace(c, probes=(Probe("hidden", "w"),)), "probe 'hidden.w'"),
        (lambda c: dataclasses.replace(c, probes=(Probe("stim", "v"),)), "probe 'stim.v'"),
        (lambda c: dataclasses.replace(c, probes=(Probe("nobody", "v"),)), "no population or projection called 'nobody'"),
        (lambda c: dataclasses.replace(c, blocks=c.blocks[:1]), "population 'out' is not fully placed"),
    ],
)
def test_unsupported_elements_name_themselves(change, match):
    with pytest.raises(BackendError, match=match):
        em.run(change(net_chain()), 10)


def test_plasticity_with_delays_rejected():
    from yuragi.ir.plasticity import PlasticityProgram

    c = net_chain()
    stdp = PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1")
    bad = dataclasses.replace(c, projections=tuple(dataclasses.replace(p, plasticity=stdp, delays=2) if p.name == "stim->hidden" else p for p in c.projections))
    with pytest.raises(BackendError, match="projection 'stim->hidden': a plastic projection must have all delays 1"):
        em.run(bad, 10)


def test_other_errors():
    c = net_chain()
    with pytest.raises(BackendError, match="steps"):
        em.run(c, 0)
    with pytest.raises(BackendError, match="engine"):
        em.run(c, 10, engine="gpu")
    with pytest.raises(BackendError, match="CompiledNetwork"):
        from yuragi.models.examples import chain

        em.run(chain(), 10)
    dup = dataclasses.replace(c, projections=tuple(
        _proj(p.name, p.pre, p.post, p.n_pre, p.n_post, np.r_[p.pre_idx, p.pre_idx[:1]], np.r_[p.post_idx, p.post_idx[:1]], np.r_[p.weights, p.weights[:1]])
        if p.name == "stim->hidden" else p for p in c.projections))
    with pytest.raises(BackendError, match="duplicate synapse"):
        em.run(dup, 10)


def test_registered_backend():
    from yuragi.backends.base import BACKENDS, get_backend

    if "emulator" not in BACKENDS:
        pytest.skip("backends/__init__.py does not register the emulator yet")
    assert get_backend("emulator").name == "emulator"


def test_lava_weights_equal_lava_weightutils():
    pytest.importorskip("lava")
    from lava.utils.weightutils import SignMode, clip_weights, determine_sign_mode, truncate_weights

    from yuragi.backends.emulator.program import lava_weights

    rng = np.random.default_rng(0)
    for _ in range(200):
        mode = int(rng.integers(0, 4))
        nb = int(rng.integers(1, 9))
        w = rng.integers(-400, 400, size=(6, 5))
        w[rng.random(w.shape) < 0.3] = 0
        if mode == SIGN_EXCITATORY:
            w = np.abs(w)
        elif mode == SIGN_INHIBITORY:
            w = -np.abs(w)
        lm = determine_sign_mode(w) if mode == SIGN_NULL else SignMode(mode)
        want = truncate_weights(clip_weights(w, lm, num_bits=8), lm, nb)
        assert np.array_equal(lava_weights(w.ravel(), mode, nb, False).reshape(w.shape), want)


@pytest.mark.slow
def test_large_network_memory():
    """100k neurons / 10M synapses run within the machine (peak RSS reported by the benchmark too)."""
    if not em.HAVE_NUMBA:
        pytest.skip("numba engine only (numpy would take long)")
    import resource

    c = random_network(100_000, p=1e-3, rate_hz=20.0, seed=1)
    assert c.projection("exc->exc").nnz + c.projection("inh->exc").nnz + c.projection("exc->inh").nnz + c.projection("inh->inh").nnz > 9_900_000
    res = em.run(c, 200)
    assert res.spikes["exc"].size + res.spikes["inh"].size == 100_000
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 12 * 2**20  # KiB

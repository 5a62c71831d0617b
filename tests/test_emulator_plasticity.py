"""The emulator's general engine: StochasticBinary neurons, stochastic release, plasticity, sessions.

The reference is :func:`reference_run` below: a straightforward per-step loop
over dense ``(n_post, n_pre)`` matrices, one pending-input buffer per
projection, written from the per-step semantics of docs/backends.md. It calls
:mod:`yuragi.fixedpoint` only for the stochastic and learning arithmetic
(stochastic_binary_spikes, probability7, release_mask, trace_step,
epoch_due, apply_rules), never the emulator. Statistical tests check the
firing probability of StochasticBinary neurons and the release fraction
against their closed forms; counter tests check learning_updates and
random_draws against totals computed by hand from the definitions.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from plastic_networks import NOISE_WIDTH, STDP, STDP_EPOCH, suite
from yuragi.backends import emulator as em
from yuragi.backends.inputs import network_input_rasters
from yuragi.compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from yuragi.errors import BackendError
from yuragi.fixedpoint import apply_rules, epoch_due, init_learning_state, lower_program, probability7, release_mask, stochastic_binary_spikes, trace_step
from yuragi.ir import Probe
from yuragi.ir.neurons import PoissonInput, RasterInput, SpikeTimesInput

STEPS = 1000
SEEDS = (1, 2, 3)
LEARNING_VARS = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")


def probe_everything(c: CompiledNetwork) -> CompiledNetwork:
    """The network probing u and v of every neuron population and every learning variable of every plastic projection."""
    probes = [Probe(p.name, v) for p in c.populations if not p.is_input for v in ("u", "v")]
    probes += [Probe(p.name, v) for p in c.projections if p.plasticity is not None for v in LEARNING_VARS]
    probes += [Probe(p.name, "w") for p in c.projections if p.plasticity is None]
    return dataclasses.replace(c, probes=tuple(probes))


# ============================================================ reference


def wrap32(x):
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32) - 2**31


def decay12(x, keep):
    """sign(x * keep) * (|x * keep| >> 12)."""
    p = np.asarray(x, dtype=np.int64) * keep
    return np.sign(p) * (np.abs(p) >> 12)


def truncated_weights(proj: CompiledProjection) -> np.ndarray:
    """Lava's clip_weights(8 bits) + truncate_weights(num_weight_bits), by hand."""
    w = proj.weights.astype(np.int64)
    mixed = int(proj.sign_mode == SIGN_MIXED)
    if proj.sign_mode == SIGN_INHIBITORY:
        w = -w
    w = np.clip(w, -256 * mixed, 255)
    shift = 8 - proj.num_weight_bits + mixed
    w = (w >> shift) << shift
    return -w if proj.sign_mode == SIGN_INHIBITORY else w


def reference_run(c: CompiledNetwork, steps: int) -> dict:
    """Per-step loop with dense matrices. Returns spikes/probes per key and the final learning states."""
    seed = c.seed
    rasters = network_input_rasters(c, steps)
    pops = list(c.populations)
    index = {p.name: i for i, p in enumerate(pops)}
    neurons = {}
    for p in pops:
        if p.is_input:
            continue
        sb = p.kind == "StochasticBinary"
        neurons[p.name] = dict(
            u=p.u_init.astype(np.int64).copy(), v=np.zeros(p.size, np.int64) if sb else p.v_init.astype(np.int64).copy(),
            last=np.full(p.size, -10**9), x=np.zeros(p.size, np.int64),
            bias=(p.bias_mant << p.bias_exp).astype(np.int64),
        )
    conns = []
    for pi, proj in enumerate(c.projections):
        w0 = truncated_weights(proj)
        W = np.zeros((proj.n_post, proj.n_pre), np.int64)
        W[proj.post_idx, proj.pre_idx] = w0
        K = np.full((proj.n_post, proj.n_pre), -1, np.int64)  # COO index of each synapse
        K[proj.post_idx, proj.pre_idx] = np.arange(proj.nnz)
        Dm = proj.delay_matrix()
        learn = None
        if proj.plasticity is not None:
            lp = lower_program(proj.plasticity)
            learn = (lp, init_learning_state(proj.pre_idx, proj.post_idx, w0, proj.n_pre, proj.n_post))
        conns.append(dict(proj=proj, index=pi, W=W, K=K, D=Dm, pending=np.zeros((steps + 8, proj.n_post), np.int64), learn=learn))
    spikes = {p.name: np.zeros((steps, p.size), bool) for p in pops}
    for name, r in rasters.items():
        spikes[name][:] = r
    probes = {pr.key: [] for pr in c.probes if pr.variable != "spikes"}
    for t in range(steps):
        for p in pops:
            if p.is_input:
                continue
            n = neurons[p.name]
            a_in = sum((cn["pending"][t] for cn in conns if cn["proj"].post == p.name), np.zeros(p.size, np.int64))
            u = wrap32(decay12(n["u"], 4096 - (p.du + 1)) + wrap32(wrap32(a_in) << 6))
            u = np.where(u > 2**23, u - 2**24, u)
            u = np.where(u <= -(2**23), u + 2**24, u)
            n["u"] = u
            if p.kind == "LIF":
                v_new = np.clip(wrap32(decay12(n["v"], 4096 - p.dv) + u + n["bias"]), -(2**23) + 1, 2**23 - 1)
                free = t > n["last"] + p.refractory
                n["v"] = np.where(free, v_new, n["v"])
                s = n["v"] > (p.vth << 6)
                n["v"][s] = 0
                n["last"][s] = t
            else:
                n["x"] = u + n["bias"]
                s = stochastic_binary_spikes(n["x"], p.param("noise_width"), seed, index[p.name], t)
            spikes[p.name][t] = s
        for cn in conns:
            proj = cn["proj"]
            W = cn["W"]
            if cn["learn"] is not None:
                W = np.zeros_like(W)
                W[proj.post_idx, proj.pre_idx] = cn["learn"][1].w
            if proj.release_prob < 1:
                ok = release_mask(proj.release_prob, seed, cn["index"], t, np.maximum(cn["K"], 0))
                W = np.where(ok & (cn["K"] >= 0), W, 0)
            s_in = spikes[proj.pre][t]
            for d in np.unique(proj.delays):
                a = np.where(cn["D"] == d, W, 0)[:, s_in].sum(axis=1)
                e = proj.weight_exp
                cn["pending"][t + d] += (a << e) if e > 0 else (a >> -e)
        for cn in conns:
            if cn["learn"] is None:
                continue
            lp, st = cn["learn"]
            proj = cn["proj"]
            post = c.population(proj.post)
            prob7 = probability7(neurons[post.name]["x"], post.param("noise_width")) if lp.post_probability else None
            reward = spikes[lp.reward][t] if lp.reward else None
            trace_step(lp, st, t, spikes[proj.pre][t], spikes[proj.post][t], seed, cn["index"], prob7, reward)
            if epoch_due(lp, t):
                apply_rules(lp, st, t, seed, cn["index"], proj.sign_mode)
        for pr in c.probes:
            if pr.variable == "spikes":
                continue
            if pr.target in neurons:
                probes[pr.key].append(neurons[pr.target][pr.variable].copy())
                continue
            cn = next(x for x in conns if x["proj"].name == pr.target)
            if cn["learn"] is None:
                probes[pr.key].append(truncated_weights(cn["proj"]))
                continue
            st = cn["learn"][1]
            value = {"w": st.w, "d": st.d, "t": st.t, "x1": st.x[0], "x2": st.x[1], "y1": st.y[0], "y2": st.y[1], "y3": st.y[2]}[pr.variable]
            probes[pr.key].append(value.copy())
    final = {cn["proj"].name: cn["learn"][1] for cn in conns if cn["learn"] is not None}
    return {"spikes": spikes, "probes": {k: np.array(v) for k, v in probes.items()}, "final": final}


def first_difference(got: np.ndarray, want: np.ndarray) -> str:
    t, i = np.argwhere(got != want)[0]
    return f"first at step {t}, index {i}: {got[t, i]} != {want[t, i]}"


CASES = [(seed, name) for seed in SEEDS for name in suite(seed)]


@pytest.mark.parametrize("seed, name", [pytest.param(s, n, marks=() if s == SEEDS[0] else pytest.mark.slow) for s, n in CASES],
                         ids=[f"{n}-{s}" for s, n in CASES])
def test_matches_reference(seed, name):
    c = probe_everything(suite(seed)[name])
    session = em.Session(c)
    got = session.run(STEPS)
    ref = reference_run(c, STEPS)
    for pop in c.populations:
        g, w = got.raster(pop.name), ref["spikes"][pop.name]
        assert np.array_equal(g, w), f"spikes of '{pop.name}' differ {first_difference(g, w)}"
        assert pop.is_input or w.sum() > 0, f"'{pop.name}' never spiked: the comparison would mean little"
    assert set(got.probes) == set(ref["probes"])
    for key, want in ref["probes"].items():
        assert got.probes[key].shape == want.shape, key
        assert np.array_equal(got.probes[key], want), f"{key} differs {first_difference(got.probes[key], want)}"
    for proj_name, st in ref["final"].items():
        state = session.learning_state(proj_name)
        for var in ("w", "d", "t"):
            assert np.array_equal(state[var], getattr(st, var)), f"final {proj_name}.{var}"
        for k, var in enumerate(("x1", "x2")):
            assert np.array_equal(state[var], st.x[k])
        for k, var in enumerate(("y1", "y2", "y3")):
            assert np.array_equal(state[var], st.y[k])
        w0 = truncated_weights(c.projection(proj_name))
        assert not np.array_equal(state["w"], w0), f"'{proj_name}' never learned: the comparison would mean little"
    # the module-level run is a fresh session
    once = em.run(c, STEPS)
    for pop in c.populations:
        assert once.spikes[pop.name] == got.spikes[pop.name]


# ============================================================ counters


def test_counters_equal_hand_totals():
    steps = 600
    gibbs = suite(4)["gibbs"]
    res = em.run(gibbs, steps)
    contacts = gibbs.projection("contacts")
    n_rules = 2  # dt and dw
    assert res.total("learning_updates") == contacts.nnz * n_rules * steps  # t_epoch = 1
    assert res.total("random_draws") == gibbs.population("h").size * steps + contacts.nnz * n_rules * steps
    # learning updates land on the post neurons' core (one core here), every step
    core_h = gibbs.blocks_of("h")[0].core
    assert (res.counters["learning_updates"][:, core_h] == contacts.nnz * n_rules).all()

    epoch = suite(4)["stdp_epoch"]
    res = em.run(epoch, steps)
    plastic = epoch.projection("plastic")
    assert STDP_EPOCH.t_epoch == 4
    due_rows = np.flatnonzero((np.arange(steps) + 1) % 4 == 0)
    assert res.total("learning_updates") == plastic.nnz * 1 * due_rows.size
    per_step = res.counters["learning_updates"].sum(axis=1)
    assert np.array_equal(np.flatnonzero(per_step), due_rows)
    assert res.total("random_draws") == res.total("learning_updates")

    stoch = suite(4)["stochastic"]
    res = em.run(stoch, steps)
    draws = stoch.population("sb").size * steps
    for proj in stoch.projections:
        if proj.release_prob < 1:
            fan_out = np.bincount(proj.pre_idx, minlength=proj.n_pre)
            draws += int(res.raster(proj.pre).sum(axis=0) @ fan_out)
    assert res.total("random_draws") == draws
    assert res.total("learning_updates") == 0
    reads = sum(int(res.raster(p.pre).sum(axis=0) @ np.bincount(p.pre_idx, minlength=p.n_pre)) for p in stoch.projections)
    assert res.total("synaptic_ops") == reads  # failed releases are read too


def test_counters_follow_absolute_rows_in_a_session():
    c = suite(5)["stdp_epoch"]  # t_epoch = 4: a split at 499 is mid-epoch
    whole = em.run(c, 1000)
    s = em.Session(c)
    a, b = s.run(499), s.run(501)
    assert b.meta["row0"] == 499
    for k in whole.counters:
        assert np.array_equal(np.concatenate([a.counters[k], b.counters[k]]), whole.counters[k]), k


# ============================================================ statistics


def sb_network(steps: int, bias_mant: np.ndarray, bias_exp: int, noise_width: int, drive_w: int = 0) -> CompiledNetwork:
    """StochasticBinary neurons with given biases; optionally driven every step through one synapse each."""
    n = bias_mant.size
    pops = [CompiledPopulation(name="sb", kind="StochasticBinary", size=n, du=4095, bias_mant=bias_mant, bias_exp=bias_exp,
                               params=(("noise_width", noise_width),))]
    projs = []
    if drive_w:
        pops.insert(0, CompiledPopulation(name="on", kind="RasterInput", size=n, source=RasterInput(raster=np.ones((1, n), bool), loop=True)))
        projs.append(CompiledProjection("drive", "on", "sb", n, n, np.arange(n), np.arange(n), np.full(n, drive_w), 1,
                                        num_weight_bits=8, weight_exp=6, sign_mode=SIGN_MIXED))
    return CompiledNetwork("sb_rate", "loihi2", 1.0, 21, tuple(pops), tuple(projs), blocks=(CoreBlock("sb", 0, n, core=0, chip=0),),
                           probes=(Probe("sb", "u"),))


@pytest.mark.parametrize("drive_w", [0, -40])
def test_stochastic_binary_firing_probability(drive_w):
    steps = 20000
    bias_mant = np.linspace(-4000, 4000, 16).astype(np.int64)  # << 6: from p = 0 to p = 1 (N = 2**18)
    res = em.run(sb_network(steps, bias_mant, 6, NOISE_WIDTH, drive_w), steps)
    u = res.probes["sb.u"]
    x = bias_mant.astype(np.int64) << 6
    if drive_w:
        assert (u[1:] == (drive_w << 6) << 6).all()  # one synapse, weight_exp 6, then << 6 into u
        x = x + ((drive_w << 6) << 6)
        rate = res.raster("sb")[1:].mean(axis=0)  # step 0 has no input yet
        n = steps - 1
    else:
        assert (u == 0).all()
        rate = res.raster("sb").mean(axis=0)
        n = steps
    p = np.clip((x + NOISE_WIDTH // 2) / NOISE_WIDTH, 0.0, 1.0)
    p7 = probability7(x, NOISE_WIDTH)
    assert np.all(np.abs(p7 / 128 - p) <= 1 / 128)
    sigma = np.sqrt(p * (1 - p) / n)
    inner = (p > 0) & (p < 1)
    assert np.all(np.abs(rate - p)[inner] <= 4 * sigma[inner]), (rate, p)
    assert np.all(rate[~inner] == p[~inner])  # certain outcomes stay certain
    assert inner.sum() >= 6 and (~inner).sum() >= 4


@pytest.mark.parametrize("p", [0.1, 0.35, 0.8])
def test_release_fraction(p):
    """Every presynaptic spike reaches a u-only LIF (du = 4095) through 1-weight synapses: u >> 6 counts the releases."""
    steps, n_pre, n_post = 2000, 40, 5
    pops = (
        CompiledPopulation(name="src", kind="PoissonInput", size=n_pre, source=PoissonInput(rate_hz=[500.0])),
        CompiledPopulation(name="cnt", kind="LIF", size=n_post, du=4095, dv=0, vth=1 << 16),
    )
    pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post))
    proj = CompiledProjection("rel", "src", "cnt", n_pre, n_post, pre.ravel(), post.ravel(), np.ones(pre.size, np.int64), 1,
                              num_weight_bits=8, sign_mode=SIGN_EXCITATORY, release_prob=p)
    c = CompiledNetwork("release", "loihi2", 1.0, 8, pops, (proj,), blocks=(CoreBlock("cnt", 0, n_post, core=0, chip=0),), probes=(Probe("cnt", "u"),))
    res = em.run(c, steps)
    released = res.probes["cnt.u"][1:] >> 6  # input of step t comes from spikes of step t - 1
    events = res.raster("src")[:-1].sum(axis=1, keepdims=True) * np.ones((1, n_post))
    fraction = released.sum() / events.sum()
    sigma = np.sqrt(p * (1 - p) / events.sum())
    assert abs(fraction - p) <= 3 * sigma, (fraction, p, sigma)
    assert (released <= events).all()
    assert res.total("random_draws") == res.raster("src").sum() * n_post


# ============================================================ sessions


@pytest.mark.parametrize("name", ["stdp", "rstdp", "gibbs", "stochastic"])
def test_session_continuation(name):
    c = probe_everything(suite(6)[name])
    whole_session = em.Session(c)
    whole = whole_session.run(1000)
    s = em.Session(c)
    a, b = s.run(500), s.run(500)
    assert s.row == 1000 and a.meta["row0"] == 0 and b.meta["row0"] == 500
    for pop in c.populations:
        joined = np.concatenate([a.raster(pop.name), b.raster(pop.name)])
        assert np.array_equal(joined, whole.raster(pop.name)), pop.name
    for key in whole.probes:
        assert np.array_equal(np.concatenate([a.probes[key], b.probes[key]]), whole.probes[key]), key
    for proj in c.projections:
        assert np.array_equal(s.weights(proj.name), whole_session.weights(proj.name))
        if proj.plasticity is not None:
            for var, value in whole_session.learning_state(proj.name).items():
                assert np.array_equal(s.learning_state(proj.name)[var], value), (proj.name, var)


def test_window_rasters_continue_every_source():
    from yuragi.backends.emulator.general import window_rasters

    raster = np.random.default_rng(0).random((37, 3)) < 0.4
    pops = (
        CompiledPopulation(name="poi", kind="PoissonInput", size=4, source=PoissonInput(rate_hz=[200.0, 10.0, 500.0, 0.0])),
        CompiledPopulation(name="times", kind="SpikeTimesInput", size=2, source=SpikeTimesInput(steps=[0, 5, 120, 299, 300], indices=[0, 1, 1, 0, 1])),
        CompiledPopulation(name="loop", kind="RasterInput", size=3, source=RasterInput(raster=raster, loop=True)),
        CompiledPopulation(name="once", kind="RasterInput", size=3, source=RasterInput(raster=raster, loop=False)),
    )
    c = CompiledNetwork("sources", "loihi2", 1.0, 3, pops, ())
    full = network_input_rasters(c, 400)
    for row0, steps in ((0, 400), (1, 50), (30, 20), (119, 181), (299, 101)):
        win = window_rasters(c, row0, steps)
        for name in full:
            assert np.array_equal(win[name], full[name][row0:row0 + steps]), (name, row0)


def test_set_weights_and_learning_state():
    c = suite(7)["stdp"]
    s = em.Session(c)
    s.run(200)
    state = s.learning_state("plastic")
    assert set(state) == set(LEARNING_VARS)
    new = np.full(c.projection("plastic").nnz, 200, dtype=np.int64)
    s.set_weights("plastic", new)
    assert np.array_equal(s.learning_state("plastic")["w"], new)
    res = s.run(100)
    assert res.meta["row0"] == 200
    assert (res.probes["plastic.w"][-1] != 200).any()  # learning went on from the new weights
    unset = em.Session(c)
    unset.run(200)
    assert res.spikes["out"] != unset.run(100).spikes["out"]  # and the LIF layer felt them
    rec = c.projection("rec")
    s.set_weights("rec", np.zeros(rec.nnz, dtype=np.int64) - 255)
    assert (s.weights("rec") == -255).all()
    with pytest.raises(BackendError, match=r"projection 'plastic' takes \(\d+,\) integer"):
        s.set_weights("plastic", new[:-1])
    with pytest.raises(BackendError, match=r"must lie in \[0, 255\]"):
        s.set_weights("plastic", new + 100)
    with pytest.raises(BackendError, match=r"must lie in \[-255, 0\]"):
        s.set_weights("rec", np.ones(rec.nnz, dtype=np.int64))
    with pytest.raises(BackendError, match="no plasticity program"):
        s.learning_state("rec")
    with pytest.raises(BackendError, match="no projection called 'nope'"):
        s.weights("nope")


def test_set_weights_acts_from_the_next_step():
    """Setting the weights a session had gives the same run as not setting them; other weights change the run."""
    c = suite(8)["gibbs"]
    a, b = em.Session(c), em.Session(c)
    a.run(300)
    b.run(300)
    b.set_weights("contacts", a.weights("contacts"))
    b.set_weights("offset", a.weights("offset"))
    ra, rb = a.run(300), b.run(300)
    assert ra.spikes["h"] == rb.spikes["h"]
    b.set_weights("contacts", np.ones(c.projection("contacts").nnz, dtype=np.int64))
    a.set_weights("contacts", np.zeros(c.projection("contacts").nnz, dtype=np.int64))
    assert not np.array_equal(a.run(50).raster("h"), b.run(50).raster("h"))


# ============================================================ batch, routing, errors


def test_run_batch_uses_one_seed_per_sample():
    from yuragi.ir.neurons import ExternalInput

    base = suite(9)["gibbs"]
    x = base.population("x")
    ext = dataclasses.replace(x, kind="ExternalInput", source=ExternalInput())
    c = dataclasses.replace(base, populations=(ext,) + base.populations[1:])
    batch = np.random.default_rng(1).random((3, 200, x.size)) < 0.3
    res = em.run_batch(c, 200, {"x": batch}, detail=True)
    for s in range(3):
        single = em.run(dataclasses.replace(c, seed=c.seed + s), 200, inputs={"x": batch[s]})
        for pop in c.populations:
            assert res.result(s).spikes[pop.name] == single.spikes[pop.name]
            assert np.array_equal(res.counts[pop.name][s], single.raster(pop.name).sum(axis=0))
        for k in single.counters:
            assert np.array_equal(res.counters[k][s], single.counters[k].sum(axis=0))
        assert np.array_equal(res.result(s).probes["contacts.w"], single.probes["contacts.w"])
    summary = em.run_batch(c, 200, {"x": batch})
    assert summary.results == () and np.array_equal(summary.counts["h"], res.counts["h"])


def test_general_engine_equals_fast_path_on_lif_networks():
    from test_backend_emulator import SUITE

    for name, c, ext in SUITE:
        if name == "overflow":
            continue  # 1200-wide raster source: covered by the fast-path tests
        fast = em.run(c, 300, inputs=ext)
        general = em.Session(c).run(300, inputs=ext)
        assert fast.meta["engine"] != "general" and general.meta["engine"] == "general"
        for k in fast.spikes:
            assert fast.spikes[k] == general.spikes[k], (name, k)
        for k in fast.probes:
            assert np.array_equal(fast.probes[k], general.probes[k]), (name, k)
        for k in fast.counters:
            assert np.array_equal(fast.counters[k], general.counters[k]), (name, k)


def test_prepare_routes_and_reuses():
    c = suite(1)["gibbs"]
    prog = em.prepare(c)
    assert isinstance(prog, em.GeneralProgram) and em.prepare(prog) is prog
    a, b = em.run(prog, 100), em.run(c, 100)
    assert a.spikes["h"] == b.spikes["h"]
    assert np.array_equal(a.probes["contacts.w"], b.probes["contacts.w"])


def _replace_pop(c, name, **kw):
    return dataclasses.replace(c, populations=tuple(dataclasses.replace(p, **kw) if p.name == name else p for p in c.populations))


def _replace_proj(c, name, **kw):
    return dataclasses.replace(c, projections=tuple(dataclasses.replace(p, **kw) if p.name == name else p for p in c.projections))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda c: _replace_pop(c, "h", params=()), r"population 'h': StochasticBinary needs the integer parameter 'noise_width'"),
        (lambda c: _replace_pop(c, "h", params=(("noise_width", 1),)), "noise_width"),
        (lambda c: _replace_pop(c, "h", kind="EIF"), "population 'h': the EIF program needs the integer parameter"),
        (lambda c: _replace_proj(c, "contacts", delays=2), "projection 'contacts': a plastic projection must have all delays 1"),
        (lambda c: _replace_proj(c, "contacts", release_prob=0.5), "projection 'contacts': a plastic projection cannot have stochastic release"),
        (lambda c: _replace_proj(c, "offset", release_prob=1.5), r"projection 'offset': release_prob must be a probability in \[0, 1\]"),
        (lambda c: _replace_proj(c, "contacts", plasticity=dataclasses.replace(c.projection("contacts").plasticity, reward="nobody")),
         "reward population 'nobody'"),
        (lambda c: _replace_proj(c, "contacts", plasticity=dataclasses.replace(c.projection("contacts").plasticity, reward="x")),
         "reward population 'x' must have 1 or 10 neurons, has 20"),
        (lambda c: dataclasses.replace(c, probes=(Probe("offset", "t"),)), r"probe 'offset.t': projection 'offset' has no variable 't' \(allowed: w\)"),
        (lambda c: dataclasses.replace(c, probes=(Probe("contacts", "z"),)), "probe 'contacts.z'"),
        (lambda c: dataclasses.replace(c, probes=(Probe("x", "u"),)), "probe 'x.u'"),
        (lambda c: dataclasses.replace(c, blocks=()), "population 'h' is not fully placed"),
    ],
)
def test_bad_networks_name_the_element(change, match):
    with pytest.raises(BackendError, match=match):
        em.run(change(suite(1)["gibbs"]), 10)


def test_probability_factor_needs_a_probability():
    c = suite(1)["stdp"]
    program = dataclasses.replace(STDP, post_factor="probability")
    with pytest.raises(BackendError, match="projection 'plastic': post_factor='probability' needs .* 'out' is LIF"):
        em.run(_replace_proj(c, "plastic", plasticity=program), 10)

"""The Lava backend's stochastic neurons, stochastic release and plasticity, bit for bit.

Three kinds of checks:

1. **Faithfulness to Lava's own learning engine.** Lava 0.10.0's
   ``LearningDense`` with a ``Loihi2FLearningRule``
   (``PyLearningDenseModelBitApproximate``), yuragi's
   :class:`~yuragi.backends.lava.learning.PlasticConnection` (fed by the
   same RingBuffer spike sources in the same Lava graph) and
   :mod:`yuragi.fixedpoint.learning` driven directly must agree on the
   weights, tags and traces. The two engines differ only in their random
   numbers (Lava: one draw per step shared by all synapses; yuragi: one per
   synapse from a counter-based hash) and in the integer trace decay, so the
   rules are chosen where no random number is used: integer impulses, no
   decay (``tau = 1e18``: ``exp(-1/tau)`` is exactly 1.0 in float64 and
   ``D = 4096``), integer scales, and the terms ordered so that the 16-bit
   accumulator can only saturate on the last non-negative terms (a
   saturation in the middle of a sum leaves 7 fractional bits for the
   stochastic rounding).
2. **The Lava backend against an independent reference**: a plain per-step
   loop written here from docs/backends.md (LIF integers, StochasticBinary,
   release, delays) calling :mod:`yuragi.fixedpoint` for the random draws and
   the learning engine, on every network of ``tests/plastic_networks.py``
   (2 seeds, 1000 steps): spikes, u/v probes, learning probes, final weights
   and tags. Where the emulator runs the network too, it must agree as well.
3. Errors: what the backend still cannot run is named in one line.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from plastic_networks import NOISE_WIDTH, STDP, _lif, _network, _projection, suite
from yuragi.backends import lava as lava_backend
from yuragi.backends.inputs import network_input_rasters
from yuragi.backends.lava.build import _lava_grid
from yuragi.compiler.compiled import SIGN_EXCITATORY, CompiledNetwork, CompiledPopulation
from yuragi.errors import BackendError
from yuragi.fixedpoint import apply_rules, epoch_due, init_learning_state, lower_program, probability7, release_mask, stochastic_binary_spikes, trace_step
from yuragi.ir import Probe
from yuragi.ir.neurons import PoissonInput
from yuragi.ir.plasticity import PlasticityProgram, Trace

STEPS = 1000
#: tau of a trace that never decays in either engine (exp(-1/tau) == 1.0 in float64).
NO_DECAY = 1e18


# ============================================================ 1. faithfulness to Lava's LearningDense


def _spikes_once_per_epoch(rng: np.random.Generator, n: int, steps: int, t_epoch: int, p: float) -> np.ndarray:
    """``(n, steps)`` 0/1 spikes, each neuron at most once per epoch (Lava and yuragi agree on such epochs)."""
    out = np.zeros((n, steps), dtype=np.int32)
    for epoch in range(steps // t_epoch):
        hit = np.flatnonzero(rng.random(n) < p)
        out[hit, epoch * t_epoch + rng.integers(0, t_epoch, hit.size)] = 1
    return out


FAITHFUL = {
    # 2-factor STDP; the depressing term first: w >= 0 (excitatory) keeps its partial sum in range
    "stdp": dict(rules=dict(dw="-y0*x1 + x0*y1"), traces=dict(x1=3, y1=5), t_epoch=1, p=0.3),
    # tags, epochs and decimation: every rule reads the values from before the epoch's update
    "tags_epoch4": dict(rules=dict(dw="-2*y0*x2 + u1*t + x0*y1", dt="-y0*x1 + x0*y2 - u1*t", dd="x0*y3 + y0*x1 - u1*d"),
                        traces=dict(x1=1, x2=2, y1=2, y2=1, y3=2), t_epoch=4, p=0.6),
}


def _lava_and_yuragi_learning(case: str, steps: int, seed: int = 3) -> dict[str, dict[str, np.ndarray]]:
    """Run Lava's LearningDense and yuragi's PlasticConnection side by side, and the fixed-point engine directly.

    Returns per engine ``{"w", "d", "t", "x1", "x2", "y1", "y2", "y3"}`` arrays
    of shape ``(steps, ...)`` (synapses in the COO order of all (post, pre)
    pairs); Lava's are read back at every epoch end only (rows in between
    are -1: Lava updates traces and weights only at epoch ends).
    """
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.utils.weightutils import SignMode

    from yuragi.backends.lava.learning import LearningProbeSink, PlasticConnection, PyLearningProbeSinkModel, PyPlasticConnectionModelBitAcc

    cfg = FAITHFUL[case]
    te = cfg["t_epoch"]
    rng = np.random.default_rng(seed)
    n_pre, n_post = 6, 4
    pre = _spikes_once_per_epoch(rng, n_pre, steps, te, cfg["p"])
    post = _spikes_once_per_epoch(rng, n_post, steps, te, cfg["p"])
    w0 = rng.integers(40, 200, (n_post, n_pre))
    post_idx, pre_idx = (a.astype(np.int64) for a in np.nonzero(np.ones((n_post, n_pre))))
    traces = cfg["traces"]
    lava_kw = {f"{k}_impulse": v for k, v in traces.items()} | {f"{k}_tau": NO_DECAY for k in traces}
    rule = Loihi2FLearningRule(**cfg["rules"], **lava_kw, t_epoch=te, rng_seed=11)
    program = PlasticityProgram(**cfg["rules"], **{k: Trace(v, NO_DECAY) for k, v in traces.items()}, t_epoch=te)
    variables = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")

    src_pre, src_post = RingBuffer(data=pre), RingBuffer(data=post)
    theirs = LearningDense(weights=w0.copy(), learning_rule=rule, sign_mode=SignMode.EXCITATORY, name="lava_learning_dense")
    ours = PlasticConnection(n_pre=n_pre, n_post=n_post, pre_idx=pre_idx, post_idx=post_idx, weights=w0[post_idx, pre_idx],
                             weight_exp=0, sign_mode=SIGN_EXCITATORY, program=program, seed=seed, proj_index=0, probes=variables)
    sink = LearningProbeSink(shape=ours.learn_out.shape, buffer_size=steps)
    ours.learn_out.connect(sink.in_port)
    for conn in (theirs, ours):
        src_pre.s_out.connect(conn.s_in)
        src_post.s_out.connect(conn.s_in_bap)
    run_cfg = Loihi2SimCfg(select_tag="fixed_pt", exception_proc_model_map={ours: PyPlasticConnectionModelBitAcc, sink: PyLearningProbeSinkModel})
    nnz = pre_idx.size
    lava = {v: np.full((steps, nnz if v in "wdt" else n_pre if v[0] == "x" else n_post), -1, dtype=np.int64) for v in variables}
    lava_vars = {"w": theirs.weights, "d": theirs.tag_2, "t": theirs.tag_1, "x1": theirs.x1, "x2": theirs.x2, "y1": theirs.y1, "y2": theirs.y2, "y3": theirs.y3}
    try:
        for end in range(te - 1, steps, te):
            theirs.run(condition=RunSteps(num_steps=te), run_cfg=run_cfg)
            for v, var in lava_vars.items():
                value = np.asarray(var.get()).astype(np.int64)
                lava[v][end] = value[post_idx, pre_idx] if v in "wdt" else value
        recorded = np.stack([sink.receive() for _ in range(steps)]).astype(np.int64)
    finally:
        theirs.stop()
    sizes = {"w": nnz, "d": nnz, "t": nnz, "x1": n_pre, "x2": n_pre, "y1": n_post, "y2": n_post, "y3": n_post}
    starts = np.cumsum([0] + [sizes[v] for v in variables])
    process = {v: recorded[:, starts[i]:starts[i + 1]] for i, v in enumerate(variables)}

    lp = lower_program(program)
    st = init_learning_state(pre_idx, post_idx, w0[post_idx, pre_idx], n_pre, n_post)
    direct = {v: np.zeros_like(process[v]) for v in variables}
    for row in range(steps):
        trace_step(lp, st, row, pre[:, row].astype(bool), post[:, row].astype(bool), seed, 0)
        if epoch_due(lp, row):
            apply_rules(lp, st, row, seed, 0, SIGN_EXCITATORY)
        for v in variables:
            direct[v][row] = getattr(st, v) if v in "wdt" else (st.x if v[0] == "x" else st.y)[int(v[1]) - 1]
    return {"lava": lava, "process": process, "direct": direct, "pre": pre, "post": post}


@pytest.mark.parametrize("case", list(FAITHFUL))
def test_lava_learning_dense_agrees_with_yuragi_learning(case):
    """Lava's LearningDense, our PlasticConnection and yuragi.fixedpoint: same weights, tags and traces over 240 steps."""
    steps = 240
    out = _lava_and_yuragi_learning(case, steps)
    lava, process, direct = out["lava"], out["process"], out["direct"]
    te = FAITHFUL[case]["t_epoch"]
    ends = np.arange(te - 1, steps, te)
    for v in process:
        np.testing.assert_array_equal(process[v], direct[v], err_msg=f"{case}: PlasticConnection vs yuragi.fixedpoint, {v}")
        np.testing.assert_array_equal(lava[v][ends], direct[v][ends], err_msg=f"{case}: Lava LearningDense vs yuragi, {v} at epoch ends")
    # the runs are not trivial: weights moved both ways and hit both bounds, traces grew, tags were used
    w = direct["w"]
    assert (np.diff(w, axis=0) > 0).any() and (np.diff(w, axis=0) < 0).any()
    assert w.min() == 0 and w.max() == 255
    assert direct["x1"].max() > 20 and direct["y1"].max() > 20
    if case == "stdp":
        assert direct["x1"].max() == 127  # saturated 7-bit trace
        # no epochs between steps: the traces of every step agree too
        for v in ("x1", "y1"):
            np.testing.assert_array_equal(lava[v], direct[v])
    else:
        assert np.abs(direct["t"]).max() > 10 and direct["d"].max() > 10


def test_lava_trace_with_tau_0_is_reset_every_epoch():
    """A documented difference (a Lava bug): Lava's bit-approximate engine zeroes a tau = 0 trace at every epoch.

    ``LearningConnectionModelBitApproximate._compute_trace_histories`` skips
    the decay of traces with tau 0 (``[x_taus != 0]``) but starts its history
    from ``np.full(..., 0)``, so such a trace is only the impulses of the
    current epoch (its float model gives NaN). yuragi reads tau = 0 as "no
    decay" (docs/plasticity-language.md); use a huge tau for that in Lava.
    """
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer

    pre = np.array([[1, 0, 1, 1, 0]], dtype=np.int32)
    conn = LearningDense(weights=np.array([[10]]), learning_rule=Loihi2FLearningRule(dw="x0*y1", x1_impulse=3, x1_tau=0, t_epoch=1, rng_seed=1))
    src = RingBuffer(data=pre)
    src.s_out.connect(conn.s_in)
    x1 = []
    try:
        for _ in range(pre.shape[1]):
            conn.run(condition=RunSteps(num_steps=1), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            x1.append(int(conn.x1.get()[0]))
    finally:
        conn.stop()
    assert x1 == [3, 0, 3, 3, 0]  # yuragi (no decay): [3, 3, 6, 9, 9]


# ============================================================ 2. the backend against a reference loop


def on_lava_grid(net: CompiledNetwork) -> CompiledNetwork:
    """The network with every weight on Lava's grid (what Lava's connections make of it on their first step).

    The hand-built networks draw odd mixed-sign weights, which Lava's
    ``truncate_weights`` would change; the Lava backend refuses them, so the
    tests give every backend the weights Lava would use.
    """
    projs = tuple(dataclasses.replace(p, weights=_lava_grid(p.weights, p.sign_mode, p.num_weight_bits)) for p in net.projections)
    return dataclasses.replace(net, projections=projs)


def _shift(acc: np.ndarray, weight_exp: int) -> np.ndarray:
    return acc << weight_exp if weight_exp >= 0 else acc >> -weight_exp


def reference_run(net: CompiledNetwork, steps: int) -> dict:
    """docs/backends.md step by step: spikes, probes (u, v, learning variables), final learning state."""
    rasters = network_input_rasters(net, steps)
    index = {p.name: i for i, p in enumerate(net.populations)}
    longest = max((int(p.delays.max()) for p in net.projections if p.nnz), default=1) + 1
    neurons = {}
    for pop in net.populations:
        if not pop.is_input:
            neurons[pop.name] = dict(u=pop.u_init.astype(np.int64).copy(), v=pop.v_init.astype(np.int64).copy(),
                                     refr_end=np.full(pop.size, -1, dtype=np.int64), inbox=np.zeros((longest, pop.size), dtype=np.int64),
                                     bias=np.left_shift(pop.bias_mant.astype(np.int64), int(pop.bias_exp)), x=None)
            rasters[pop.name] = np.zeros((steps, pop.size), dtype=bool)
    learning = {}
    for i, proj in enumerate(net.projections):
        if proj.plasticity is not None:
            learning[proj.name] = (lower_program(proj.plasticity), init_learning_state(proj.pre_idx, proj.post_idx, proj.weights, proj.n_pre, proj.n_post))
    probes = {}
    for probe in net.probes:
        if probe.variable == "spikes":
            continue
        width = {"w": "nnz", "d": "nnz", "t": "nnz"}.get(probe.variable)
        if probe.target in neurons:
            size = net.population(probe.target).size
        else:
            proj = net.projection(probe.target)
            size = proj.nnz if width else proj.n_pre if probe.variable[0] == "x" else proj.n_post
        probes[probe.key] = np.zeros((steps, size), dtype=np.int64)

    for r in range(steps):
        # 1. neurons, from the input delivered for this step
        for name, n in neurons.items():
            pop = net.population(name)
            a_in = n["inbox"][r % longest].copy()
            n["inbox"][r % longest] = 0
            keep = 4096 - (int(pop.du) + 1)
            u = n["u"] * keep
            u = np.sign(u) * (np.abs(u) >> 12) + (a_in << 6)
            u = np.where(u > (1 << 23), u - (1 << 24), u)
            n["u"] = np.where(u <= -(1 << 23), u + (1 << 24), u)
            if pop.kind == "StochasticBinary":
                n["x"] = n["u"] + n["bias"]
                spikes = stochastic_binary_spikes(n["x"], pop.param("noise_width"), net.seed, index[name], r)
                n["v"][:] = 0
            else:
                free = n["refr_end"] < r
                v = n["v"] * (4096 - int(pop.dv))
                v = np.sign(v) * (np.abs(v) >> 12) + n["u"] + n["bias"]
                n["v"] = np.where(free, np.clip(v, -(1 << 23) + 1, (1 << 23) - 1), n["v"])
                spikes = n["v"] > (int(pop.vth) << 6)
                n["v"][spikes] = 0
                n["refr_end"][spikes] = r + int(pop.refractory)
            rasters[name][r] = spikes
        # 2. projections: this step's spikes with the current weights, delivered at r + delay
        for i, proj in enumerate(net.projections):
            fired = rasters[proj.pre][r]
            syn = np.flatnonzero(fired[proj.pre_idx])
            if proj.release_prob < 1.0:
                syn = syn[release_mask(proj.release_prob, net.seed, i, r, syn)]
            w = learning[proj.name][1].w if proj.name in learning else proj.weights
            for delay in np.unique(proj.delays[syn]):
                group = syn[proj.delays[syn] == delay]
                acc = np.zeros(proj.n_post, dtype=np.int64)
                np.add.at(acc, proj.post_idx[group], w[group])
                neurons[proj.post]["inbox"][(r + delay) % longest] += _shift(acc, int(proj.weight_exp))
        # 3. learning, after the step's spikes
        for i, proj in enumerate(net.projections):
            if proj.name not in learning:
                continue
            lp, st = learning[proj.name]
            post_pop = net.population(proj.post)
            prob = probability7(neurons[proj.post]["x"], post_pop.param("noise_width")) if lp.post_probability else None
            reward = rasters[lp.reward][r] if lp.reward is not None else None
            trace_step(lp, st, r, rasters[proj.pre][r], rasters[proj.post][r], net.seed, i, post_prob7=prob, reward_spikes=reward)
            if epoch_due(lp, r):
                apply_rules(lp, st, r, net.seed, i, int(proj.sign_mode))
        # 4. probes
        for key, arr in probes.items():
            target, var = key.split(".", 1)
            if target in neurons:
                arr[r] = neurons[target][var]
            elif target in learning:
                st = learning[target][1]
                arr[r] = getattr(st, var) if var in ("w", "d", "t") else (st.x if var[0] == "x" else st.y)[int(var[1]) - 1]
            else:
                arr[r] = net.projection(target).weights
    final = {name: {v: getattr(st, v).copy() for v in ("w", "d", "t")} for name, (_, st) in learning.items()}
    return {"spikes": rasters, "probes": probes, "final": final}


def _all_learning_probes(net: CompiledNetwork) -> CompiledNetwork:
    """``net`` with w, d, t and the used traces probed on every plastic projection (final weights and tags too)."""
    have = {p.key for p in net.probes}
    extra = []
    for proj in net.projections:
        if proj.plasticity is not None:
            extra += [Probe(proj.name, v) for v in ("w", "d", "t", "x1", "x2", "y1", "y2", "y3") if f"{proj.name}.{v}" not in have]
    return dataclasses.replace(net, probes=net.probes + tuple(extra))


def assert_same_run(result, want: dict, net: CompiledNetwork, label: str) -> None:
    for pop in net.populations:
        got = result.raster(pop.name)
        bad = np.argwhere(got != want["spikes"][pop.name])
        assert not bad.size, f"{label}: spikes of '{pop.name}' differ first at (step, neuron) {tuple(bad[0])}"
    assert set(want["probes"]) <= set(result.probes), f"{label}: probes missing: {set(want['probes']) - set(result.probes)}"
    for key, arr in want["probes"].items():
        bad = np.argwhere(np.asarray(result.probes[key]) != arr)
        assert not bad.size, f"{label}: probe '{key}' differs first at (step, index) {tuple(bad[0])}"
    for proj, final in want["final"].items():
        for v, value in final.items():
            np.testing.assert_array_equal(result.probes[f"{proj}.{v}"][-1], value, err_msg=f"{label}: final {proj}.{v}")


_SUITE_CACHE: dict[int, dict[str, CompiledNetwork]] = {}


def suite_network(seed: int, name: str) -> CompiledNetwork:
    if seed not in _SUITE_CACHE:
        _SUITE_CACHE[seed] = suite(seed)
    return _all_learning_probes(on_lava_grid(_SUITE_CACHE[seed][name]))


SUITE_NAMES = ("stdp", "stdp_epoch", "rstdp", "gibbs", "stochastic")


@pytest.mark.slow  # the default suite checks Lava against Brian2 and the emulator (test_cross_backend_plasticity)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", SUITE_NAMES)
def test_lava_backend_matches_reference_on_plastic_networks(name, seed):
    net = suite_network(seed, name)
    result = lava_backend.run(net, STEPS)
    want = reference_run(net, STEPS)
    assert_same_run(result, want, net, f"lava {name} seed {seed}")
    # not trivial: every population spiked, plastic weights moved
    for pop in net.populations:
        assert result.spikes[pop.name].count > 0, pop.name
    for proj in net.projections:
        if proj.plasticity is not None:
            assert (result.probes[f"{proj.name}.w"][-1] != proj.weights).any(), proj.name
    # the counters of the plastic and stochastic elements (from the same rasters, as every backend)
    rules = sum(len(p.plasticity.rules) * p.nnz * (STEPS // p.plasticity.t_epoch) for p in net.projections if p.plasticity is not None)
    assert result.total("learning_updates") == rules
    meta = result.meta
    assert set(meta["yuragi_connection_models"]) == {p.name for p in net.projections if p.plasticity is not None or p.release_prob < 1.0}
    # the emulator (another bit-exact backend), where it runs this network
    from yuragi.backends import emulator

    try:
        other = emulator.run(net, STEPS)
    except BackendError as exc:  # pragma: no cover - depends on the emulator's state
        pytest.skip(f"emulator cannot run '{name}': {exc}")
    assert_same_run(other, want, net, f"emulator {name} seed {seed}")


def _recurrent_plastic_network(seed: int) -> CompiledNetwork:
    """A plastic recurrent projection (out -> out): its connection waits for the post spikes of the very step it feeds."""
    rng = np.random.default_rng(seed)
    pops = [CompiledPopulation(name="in", kind="PoissonInput", size=8, source=PoissonInput(rate_hz=[120.0])), _lif("out", 6, rng)]
    sizes = {p.name: p.size for p in pops}
    projs = [
        _projection("ff", "in", "out", sizes, rng, 0.8, 40, 120, weight_exp=2),
        _projection("rec", "out", "out", sizes, rng, 0.6, 10, 80, weight_exp=2, plasticity=STDP),
    ]
    return _all_learning_probes(_network(f"recurrent_{seed}", seed, pops, projs, [Probe("out", "v"), Probe("out", "u")]))


def test_recurrent_plastic_projection_runs_without_deadlock():
    net = _recurrent_plastic_network(5)
    steps = 300
    result = lava_backend.run(net, steps, chunk=120)  # several run calls: state carries over
    assert_same_run(result, reference_run(net, steps), net, "recurrent")
    assert result.spikes["out"].count > 10


def test_stochastic_binary_probes_and_chunks():
    """StochasticBinary u and v probes (v is always 0); results do not depend on the chunking."""
    net = suite_network(2, "gibbs")
    net = dataclasses.replace(net, probes=net.probes + (Probe("h", "v"),))
    steps = 150
    a = lava_backend.run(net, steps, chunk=40)
    want = reference_run(net, steps)
    assert_same_run(a, want, net, "gibbs chunked")
    assert not a.probes["h.v"].any()
    assert a.probes["h.u"].any()
    assert a.meta["yuragi_neuron_models"]["h"] == "PyStochasticBinaryModelBitAcc"
    assert "h" in a.meta["needs_loihi2_microcode"]


def test_plastic_projection_without_synapses_keeps_its_traces():
    """No synapse, nothing delivered or learned, but the traces of its pre and post neurons are still probed."""
    net = suite_network(0, "stdp")
    empty = dataclasses.replace(net.projections[0], pre_idx=[], post_idx=[], weights=[], delays=[])
    net = dataclasses.replace(net, projections=(empty,) + net.projections[1:])
    steps = 60
    result = lava_backend.run(net, steps)
    assert_same_run(result, reference_run(net, steps), net, "no synapses")
    assert result.probes["plastic.x1"].any() and result.probes["plastic.w"].shape == (steps, 0)


# ============================================================ 3. errors


def _small_plastic(seed: int = 0) -> CompiledNetwork:
    return suite(seed)["stdp"]


def test_what_the_backend_cannot_run_is_named():
    net = on_lava_grid(_small_plastic())
    proj = net.projections[0]

    def with_proj(**kw):
        return dataclasses.replace(net, projections=(dataclasses.replace(proj, **kw),) + net.projections[1:])

    with pytest.raises(BackendError, match="projection 'plastic': a plastic projection must have all delays 1"):
        lava_backend.run(with_proj(delays=2), 3)
    with pytest.raises(BackendError, match="projection 'plastic': a plastic projection cannot have stochastic release"):
        lava_backend.run(with_proj(release_prob=0.5), 3)
    with pytest.raises(BackendError, match="post_factor='probability' needs a StochasticBinary post population"):
        lava_backend.run(with_proj(plasticity=dataclasses.replace(STDP, post_factor="probability")), 3)
    with pytest.raises(BackendError, match="reward population 'nope' is not in the network"):
        lava_backend.run(with_proj(plasticity=dataclasses.replace(STDP, reward="nope")), 3)
    reward = CompiledPopulation(name="r", kind="PoissonInput", size=3, source=PoissonInput(rate_hz=[10.0]))
    with pytest.raises(BackendError, match="reward population 'r' must have 1 or 8 neurons, has 3"):
        bigger = dataclasses.replace(net, populations=net.populations + (reward,))
        lava_backend.run(dataclasses.replace(bigger, projections=(dataclasses.replace(proj, plasticity=dataclasses.replace(STDP, reward="r")),)), 3)
    with pytest.raises(BackendError, match=r"probe 'rec.x1': 'rec' has no variable 'x1'"):
        lava_backend.run(dataclasses.replace(net, probes=(Probe("rec", "x1"),)), 3)
    with pytest.raises(BackendError, match="release_prob must be a probability"):
        lava_backend.run(dataclasses.replace(net, projections=net.projections[:1] + (dataclasses.replace(net.projections[1], release_prob=1.5),)), 3)
    sb = CompiledPopulation(name="out", kind="StochasticBinary", size=8, du=4095)
    with pytest.raises(BackendError, match="population 'out': StochasticBinary needs the integer parameter 'noise_width'"):
        lava_backend.run(dataclasses.replace(net, populations=(net.populations[0], sb)), 3)
    with pytest.raises(BackendError, match="population 'out': the EIF program needs the integer parameter"):
        lava_backend.run(dataclasses.replace(net, populations=(net.populations[0], dataclasses.replace(sb, kind="EIF", params=(("noise_width", NOISE_WIDTH),)))), 3)

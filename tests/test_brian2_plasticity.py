"""Brian2 Loihi-exact mode with StochasticBinary neurons, stochastic release and plasticity.

The Brian2 implementation (backends/brian2/{stochastic,learning}.py) is
independent Brian2 code; here it is checked bit for bit against the
reference integer semantics (:mod:`yuragi.fixedpoint`) driven by a plain
per-step loop written from docs/backends.md, and against the emulator when
it runs these networks. Unit tests pin the Brian2 arithmetic of each piece
(multiply-high, probability, release, traces, products, saturation,
stochastic rounding) against the yuragi.fixedpoint functions at edge values.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from plastic_networks import GIBBS, NOISE_WIDTH, STDP, STDP_EPOCH, suite
from yuragi.backends import brian2 as b2backend
from yuragi.backends.brian2 import hashfn, learning, stochastic
from yuragi.backends.inputs import network_input_rasters
from yuragi.compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from yuragi.errors import BackendError
from yuragi.fixedpoint import apply_rules, epoch_due, init_learning_state, lower_program, probability7, release_mask, stochastic_binary_spikes, trace_step
from yuragi.fixedpoint.stochastic import uniform_below
from yuragi.ir import Probe
from yuragi.ir.neurons import PoissonInput
from yuragi.ir.plasticity import PlasticityProgram, Trace
from yuragi.rng import STREAM_NEURON, STREAM_PRE_TRACE, hash32

STEPS = 1000
LEARNING_VARS = ("w", "d", "t", "x1", "x2", "y1", "y2", "y3")


# ------------------------------------------------------------------ reference
def lava_truncated(proj: CompiledProjection) -> np.ndarray:
    """The weights Lava's Dense starts from (real Lava's clip_weights / truncate_weights)."""
    wu = pytest.importorskip("lava.utils.weightutils")
    mode = wu.SignMode(int(proj.sign_mode))
    w = wu.truncate_weights(wu.clip_weights(proj.weights.reshape(1, -1), mode, num_bits=8), mode, proj.num_weight_bits)
    return np.asarray(w, dtype=np.int64).ravel()


def _shift(x: np.ndarray, exp: int) -> np.ndarray:
    return np.left_shift(x, exp) if exp >= 0 else np.right_shift(x, -exp)


def reference_run(program: CompiledNetwork, steps: int) -> tuple[dict, dict]:
    """docs/backends.md, per step, in order, with yuragi.fixedpoint for the stochastic and learning parts."""
    rasters = network_input_rasters(program, steps)
    seed = program.seed
    pops = program.populations
    spikes = {p.name: (rasters[p.name].copy() if p.is_input else np.zeros((steps, p.size), bool)) for p in pops}
    state = {p.name: {"u": p.u_init.copy(), "v": p.v_init.copy(), "last": np.full(p.size, -10**9), "x": np.zeros(p.size, np.int64)}
             for p in pops if not p.is_input}
    max_delay = max(p.max_delay for p in program.projections)
    pending = {p.name: np.zeros((steps + max_delay + 1, p.n_post), np.int64) for p in program.projections}
    weights = {p.name: lava_truncated(p) for p in program.projections}
    learn = {}
    for k, proj in enumerate(program.projections):
        if proj.plasticity is not None:
            learn[proj.name] = (k, lower_program(proj.plasticity), init_learning_state(proj.pre_idx, proj.post_idx, weights[proj.name], proj.n_pre, proj.n_post))
    probes: dict[str, np.ndarray] = {}
    for p in pops:
        if not p.is_input:
            for var in "uv":
                probes[f"{p.name}.{var}"] = np.zeros((steps, p.size), np.int64)
    for proj in program.projections:
        if proj.plasticity is not None:
            for var in LEARNING_VARS:
                n = proj.nnz if var in "wdt" else proj.n_pre if var[0] == "x" else proj.n_post
                probes[f"{proj.name}.{var}"] = np.zeros((steps, n), np.int64)
    for r in range(steps):
        # 1. neurons, from the input delivered for step r
        for index, pop in enumerate(pops):
            if pop.is_input:
                continue
            s = state[pop.name]
            a_in = np.zeros(pop.size, np.int64)
            for proj in program.projections:
                if proj.post == pop.name:
                    a_in += _shift(pending[proj.name][r], proj.weight_exp)
            prod = s["u"] * (4096 - (pop.du + 1))
            u = np.sign(prod) * (np.abs(prod) >> 12) + (a_in << 6)
            s["u"] = np.where(u > 2**23, u - 2**24, np.where(u <= -(2**23), u + 2**24, u))
            bias = _shift(pop.bias_mant, pop.bias_exp)
            if pop.kind == "StochasticBinary":
                s["x"] = s["u"] + bias
                fired = stochastic_binary_spikes(s["x"], pop.param("noise_width"), seed, index, r)
                s["v"] = np.zeros(pop.size, np.int64)
            else:
                prod = s["v"] * (4096 - pop.dv)
                v = np.clip(np.sign(prod) * (np.abs(prod) >> 12) + s["u"] + bias, -(2**23) + 1, 2**23 - 1)
                s["v"] = np.where(r - s["last"] <= pop.refractory, s["v"], v)
                fired = s["v"] > (pop.vth << 6)
                s["v"] = np.where(fired, 0, s["v"])
                s["last"] = np.where(fired, r, s["last"])
            spikes[pop.name][r] = fired
            probes[f"{pop.name}.u"][r] = s["u"]
            probes[f"{pop.name}.v"][r] = s["v"]
        # 2. transmission with the current weights (released synapses only)
        for k, proj in enumerate(program.projections):
            w = learn[proj.name][2].w if proj.name in learn else weights[proj.name]
            syn = np.flatnonzero(spikes[proj.pre][r][proj.pre_idx])
            if proj.release_prob < 1.0:
                syn = syn[release_mask(proj.release_prob, seed, k, r, syn)]
            np.add.at(pending[proj.name], (r + proj.delays[syn], proj.post_idx[syn]), w[syn])
        # 3. learning, after the step's spikes
        for name, (k, lp, st) in learn.items():
            proj = program.projections[k]
            post_pop = program.population(proj.post)
            prob = probability7(state[proj.post]["x"], post_pop.param("noise_width")) if lp.post_probability else None
            reward = spikes[lp.reward][r] if lp.reward is not None else None
            trace_step(lp, st, r, spikes[proj.pre][r], spikes[proj.post][r], seed, k, post_prob7=prob, reward_spikes=reward)
            if epoch_due(lp, r):
                apply_rules(lp, st, r, seed, k, proj.sign_mode)
            # 4. learning probes
            for var in "wdt":
                probes[f"{name}.{var}"][r] = getattr(st, var)
            for var in ("x1", "x2"):
                probes[f"{name}.{var}"][r] = st.x[int(var[1]) - 1]
            for var in ("y1", "y2", "y3"):
                probes[f"{name}.{var}"][r] = st.y[int(var[1]) - 1]
    return spikes, probes


def probe_everything(program: CompiledNetwork) -> CompiledNetwork:
    """The same network with every u/v and every learning variable probed."""
    probes = [Probe(p.name, v) for p in program.populations if not p.is_input for v in "uv"]
    probes += [Probe(p.name, v) for p in program.projections if p.plasticity is not None for v in LEARNING_VARS]
    return dataclasses.replace(program, probes=tuple(probes))


def first_difference(got: np.ndarray, want: np.ndarray) -> str:
    step, col = np.argwhere(got != want)[0]
    return f"first at step {step}, index {col}: {got[step, col]} != {want[step, col]}"


def assert_equal_runs(result, spikes: dict, probes: dict, what: str) -> None:
    for name, want in spikes.items():
        got = result.raster(name)
        assert np.array_equal(got, want), f"{what}: spikes of '{name}' differ {first_difference(got, want)}"
    for key, want in probes.items():
        if key not in result.probes:
            continue
        got = result.probes[key]
        assert got.shape == want.shape and got.dtype == np.int64, (key, got.shape, got.dtype)
        assert np.array_equal(got, want), f"{what}: probe {key} differs {first_difference(got, want)}"


NETWORKS = ("stdp", "stdp_epoch", "rstdp", "gibbs", "stochastic")


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", NETWORKS)
def test_suite_matches_fixedpoint_reference(name, seed):
    """1000 steps: spikes, u/v, w/d/t and traces of every step equal the reference loop (and the emulator when it runs them)."""
    program = probe_everything(suite(seed)[name])
    start = time.perf_counter()
    result = b2backend.run(program, STEPS)
    elapsed = time.perf_counter() - start
    spikes, probes = reference_run(program, STEPS)
    assert_equal_runs(result, spikes, probes, "brian2 vs reference")
    assert set(result.probes) == {p.key for p in program.probes}
    # the networks must exercise what they are for
    neurons = [p for p in program.populations if not p.is_input]
    assert all(result.raster(p.name).sum() > 20 for p in neurons), {p.name: int(result.raster(p.name).sum()) for p in neurons}
    for proj in program.projections:
        if proj.plasticity is not None:
            w = result.probes[f"{proj.name}.w"]
            assert (w[-1] != lava_truncated(proj)).sum() > proj.nnz // 4, "weights barely learned"
            assert len(np.unique(w[:, 0])) > 1
    assert elapsed < 40.0
    try:
        from yuragi.backends import emulator
        emulated = emulator.run(program, STEPS)
    except BackendError as exc:
        if "not supported" in str(exc):
            pytest.skip(f"emulator does not run this network yet: {exc}")
        raise
    assert_equal_runs(emulated, spikes, probes, "emulator vs reference")
    assert all(np.array_equal(result.counters[k], emulated.counters[k]) for k in result.counters)


def test_suite_probes_have_the_documented_shapes():
    """The suite's own probe lists: (steps, nnz) synaptic variables, (steps, n_pre/n_post) traces, v = 0 for StochasticBinary."""
    nets = suite(3)
    gibbs = b2backend.run(nets["gibbs"], 50)
    contacts = nets["gibbs"].projection("contacts")
    assert set(gibbs.probes) == {"h.u", "contacts.w", "contacts.t", "contacts.y1"}
    assert gibbs.probes["contacts.w"].shape == (50, contacts.nnz) and gibbs.probes["contacts.y1"].shape == (50, 10)
    assert set(np.unique(gibbs.probes["contacts.w"])) <= {0, 1}
    stdp = b2backend.run(nets["stdp"], 50)
    assert stdp.probes["plastic.x1"].shape == (50, 16) and stdp.probes["plastic.y1"].shape == (50, 8)
    sb = b2backend.run(probe_everything(nets["stochastic"]), 50)
    assert (sb.probes["sb.v"] == 0).all() and sb.probes["sb.u"].any()


# ------------------------------------------------- Brian2 arithmetic, unit by unit
def run_code(code: str, variables: dict[str, np.ndarray], steps: int = 1, namespace: dict | None = None) -> dict[str, np.ndarray]:
    """Run Brian2 integer code once per step on a NeuronGroup of len(values) neurons (numpy target); returns the variables."""
    import brian2 as b2

    size = len(next(iter(variables.values())))
    names = list(variables)
    with b2backend._common.codegen_target():
        clock = b2.Clock(dt=1 * b2.ms)
        group = b2.NeuronGroup(size, "\n".join(f"{v} : integer" for v in names), dtype={v: np.int64 for v in names},
                               clock=clock, namespace={**hashfn.namespace(b2), **(namespace or {})})
        for v in names:
            setattr(group, v, np.asarray(variables[v], dtype=np.int64))
        op = group.run_regularly(code, when="groups", clock=clock)
        b2.Network(group, op).run(steps * b2.ms, namespace={})
        return {v: np.asarray(getattr(group, v)[:], dtype=np.int64) for v in names}


def test_hash_function_matches_rng():
    out = run_code(f"h = {hashfn.draw(77, STREAM_NEURON + 3, 't_in_timesteps', '8 * i + 5')}", {"h": np.zeros(1000)}, steps=4)
    assert np.array_equal(out["h"], hash32(77, STREAM_NEURON + 3, 3, np.arange(1000) * 8 + 5).astype(np.int64))
    assert out["h"].max() > 2**31  # the full unsigned range survives in int64


def test_multiply_high_edges():
    """(h * N) >> 32 for h at 0, 2**32 - 1 and around 2**16 multiples; N from 2 to 2**31 (product up to 2**63 - 2**31)."""
    h = np.array([0, 1, 2**16 - 1, 2**16, 2**16 + 1, 2**31 - 1, 2**31, 2**32 - 2**16, 2**32 - 2, 2**32 - 1], dtype=np.int64)
    h = np.concatenate([h, np.random.default_rng(0).integers(0, 2**32, 500)])
    for n in (2, 3, 1000, NOISE_WIDTH, 2**31 - 1, 2**31):
        out = run_code(f"r = {hashfn.multiply_high('h', n)}", {"h": h, "r": np.zeros_like(h)})
        assert np.array_equal(out["r"], uniform_below(h.astype(np.uint32), n)), n
        assert out["r"].max() < n and out["r"].min() >= 0


@pytest.mark.parametrize("n", [2, 7, NOISE_WIDTH, 2**31])
def test_stochastic_binary_firing_and_probability(n):
    """Brian2 firing draws and 7-bit probabilities vs fixedpoint on x from far below to far above the ramp."""
    x = np.concatenate([np.array([-(2**24), -n, -(n // 2) - 1, -(n // 2), -(n // 2) + 1, -1, 0, 1, n // 2 - 1, n // 2, n // 2 + 1, n, 2**24]),
                        np.random.default_rng(n).integers(-n, n + 1, 400)])
    code = "\n".join(stochastic.firing_code(9, 2, n) + [f"p = {stochastic.probability_expr('x', n)}"])
    for steps in (1, 6):
        out = run_code(code, {"x": x, "fire": np.zeros_like(x), "p": np.zeros_like(x)}, steps=steps)
        assert np.array_equal(out["fire"].astype(bool), stochastic_binary_spikes(x, n, 9, 2, steps - 1))
    assert np.array_equal(out["p"], probability7(x, n))
    assert set(np.unique(out["p"])) >= {0, 127}


def test_release_draws():
    """on_pre release of synapse k for a spike emitted at step t - lag vs release_mask."""
    import brian2 as b2

    p, n_syn = 0.37, 300
    with b2backend._common.codegen_target():
        clock = b2.Clock(dt=1 * b2.ms)
        src = b2.SpikeGeneratorGroup(1, [0], [2] * b2.ms, clock=clock)
        dst = b2.NeuronGroup(n_syn, "acc0 : integer", dtype={"acc0": np.int64}, clock=clock)
        syn = b2.Synapses(src, dst, "w : integer\nk : integer\nlag : integer", dtype={v: np.int64 for v in ("w", "k", "lag")},
                          on_pre=stochastic.release_on_pre("acc0", 5, 4, p, "lag"), clock=clock, namespace=hashfn.namespace(b2))
        syn.connect(i=np.zeros(n_syn, dtype=int), j=np.arange(n_syn))
        lags = np.random.default_rng(1).integers(0, 4, n_syn)
        syn.delay = lags * b2.ms
        syn.lag = lags
        syn.k = np.arange(n_syn) * 3 + 1
        syn.w = 1
        b2.Network(src, dst, syn).run(8 * b2.ms, namespace={})
        got = np.asarray(dst.acc0[:]).astype(bool)
    want = release_mask(p, 5, 4, 2, np.arange(n_syn) * 3 + 1)
    assert np.array_equal(got, want) and 0.25 < got.mean() < 0.5
    assert stochastic.release_threshold(1.0) == 2**32 and stochastic.release_threshold(0.5) == 2**31


@pytest.mark.parametrize("impulse, tau", [(16.5, 6), (20, 5), (127, 1.5), (0.25, 0), (3.99, 40), (126.7, 2), (0, 7)])
def test_trace_update_matches_fixedpoint(impulse, tau):
    """One trace over 60 steps on 64 neurons spiking at random, from saturation and from zero."""
    program = PlasticityProgram(dw="x0*x1", x1=Trace(impulse, tau))
    lp = lower_program(program)
    ints = learning.TraceInts.of(Trace(impulse, tau))
    assert (ints.whole, ints.frac, ints.decay) == (lp.x[0].impulse_int, lp.x[0].impulse_frac, lp.x[0].decay)
    rng = np.random.default_rng(int(impulse * 10 + tau))
    n, steps = 64, 60
    spikes = rng.random((steps, n)) < 0.3
    st = init_learning_state(np.arange(n), np.arange(n), np.zeros(n), n, n)
    st.x[0, : n // 2] = 127
    start = st.x[0].copy()
    want = []
    for r in range(steps):
        trace_step(lp, st, r, spikes[r], np.zeros(n, bool), 11, 3)
        want.append(st.x[0].copy())
    import brian2 as b2

    with b2backend._common.codegen_target():
        clock = b2.Clock(dt=1 * b2.ms)
        group = b2.NeuronGroup(n, "x1 : integer\ns : integer", dtype={"x1": np.int64, "s": np.int64}, clock=clock, namespace=hashfn.namespace(b2))
        group.x1 = start
        spike_values = b2.TimedArray(spikes.astype(np.int64), dt=1 * b2.ms)
        set_spikes = group.run_regularly("s = int(spike_values(t, i) > 0)", when="start", clock=clock)
        code = "\n".join(learning.trace_lines("x1", ints, "s", 11, STREAM_PRE_TRACE + 3, learning.PRE_SLOTS["x1"])) or "x1 = x1"
        step = group.run_regularly(code, when="groups", clock=clock)
        mon = b2.StateMonitor(group, "x1", record=True, when="end", clock=clock)
        b2.Network(group, set_spikes, step, mon).run(steps * b2.ms, namespace={"spike_values": spike_values})
        got = np.asarray(mon.x1[:], dtype=np.int64).T
    assert np.array_equal(got, np.array(want))


def _one_synapse_network(program: PlasticityProgram, sign_mode: int, w0: np.ndarray, n: int = 40) -> CompiledNetwork:
    """n pre (Poisson) -> n post (StochasticBinary) one to one, plastic, with the given initial weights."""
    pops = (
        CompiledPopulation(name="pre", kind="PoissonInput", size=n, source=PoissonInput(rate_hz=[250.0])),
        CompiledPopulation(name="post", kind="StochasticBinary", size=n, du=4095, bias_mant=np.linspace(-4000, 4000, n).astype(int),
                           params=(("noise_width", 1 << 14),)),
        CompiledPopulation(name="reward", kind="PoissonInput", size=1, source=PoissonInput(rate_hz=[100.0])),
    )
    proj = CompiledProjection("p", "pre", "post", n, n, np.arange(n), np.arange(n), w0, 1, num_weight_bits=8, weight_exp=0,
                              sign_mode=sign_mode, plasticity=program)
    probes = tuple(Probe("p", v) for v in LEARNING_VARS) + (Probe("post", "u"),)
    return CompiledNetwork("edge", "loihi2", 1.0, 4, pops, (proj,), blocks=(CoreBlock("post", 0, n, core=0, chip=0),), probes=probes)


EDGE_PROGRAMS = {
    # large positive and negative accumulators: saturation of the 16-bit accumulator and of w per sign mode
    "saturate": PlasticityProgram(dw="7*2^8*x0 - 8*2^8*y0*y1 + 3*x0*w*x1", dt="-8*2^8*y0 + 7*2^-2*x0*x1", x1=Trace(127, 0), y1=Trace(90, 3), t_epoch=1),
    # fractions of every size: stochastic rounding of the 7 dropped bits
    "fractions": PlasticityProgram(dw="2^-7*x0*x1 - 5*2^-7*y0*y1 + 2^-5*u1*w", dd="3*2^-6*x0*y1 - 2^-7*u1*d", dt="-2^-7*y0*x1 + 2^-4*u1*(t - 3)",
                                   x1=Trace(37.3, 3), y1=Trace(11.8, 9), t_epoch=3),
    # sgn, offsets, products of three traces (right shift of wide products), dependencies as factors
    # (x2 + 9) and (w + 300) can leave their 7 / 9 bits: clipped
    "wide": PlasticityProgram(dw="-2^-3*y0*sgn(w - 100)*y1*y2 + 2^-2*x0*(x2 + 9)*x1*y0 - 7*2^-7*u2*x1*x2*y3*(w + 1) - 2^-7*y0*(w + 300)",
                              dd="2^-2*x0*sgn(d + 3)*x1 - y0*sgn(d - 100)",
                              x1=Trace(20.5, 4), x2=Trace(64, 12), y1=Trace(17, 2), y2=Trace(100.25, 8), y3=Trace(5, 0), t_epoch=2),
    # reward-gated y2 and the probability factor y1
    "reward_prob": PlasticityProgram(dt="x0*y1 - 2^-1*y0*x1 - 2^-3*u0*t", dw="2^-2*u0*t*y2 - 2^-5*u0*w*y1",
                                     x1=Trace(30, 5), y2=Trace(50, 6), t_epoch=1, reward="reward", post_factor="probability"),
}


@pytest.mark.parametrize("sign_mode", [SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED])
@pytest.mark.parametrize("rule", list(EDGE_PROGRAMS))
def test_learning_edge_cases(rule, sign_mode):
    """Products, accumulator saturation, sign modes, stochastic rounding, decimation: 300 steps vs the reference."""
    n = 40
    lo, hi = {SIGN_EXCITATORY: (0, 255), SIGN_INHIBITORY: (-255, 0), SIGN_MIXED: (-256, 255)}[sign_mode]
    w0 = np.random.default_rng(n).integers(lo, hi + 1, n)
    w0[:4] = (lo, hi, 0, (lo + hi) // 2)
    program = _one_synapse_network(EDGE_PROGRAMS[rule], sign_mode, w0, n)
    steps = 300
    result = b2backend.run(program, steps)
    spikes, probes = reference_run(program, steps)
    assert_equal_runs(result, spikes, probes, f"{rule}/{sign_mode}")
    w = result.probes["p.w"]
    assert w.min() >= lo and w.max() <= hi and len(np.unique(w)) > 10
    if rule == "saturate":
        assert (result.probes["p.t"] == -257).any()  # the accumulator's floor -2**15 - 1 rounds to -257
        assert (w == (hi if sign_mode != SIGN_INHIBITORY else 0)).any() and (w == (lo if sign_mode != SIGN_EXCITATORY else 0)).any()
    if rule == "fractions":
        assert result.probes["p.t"].any() and result.probes["p.d"].any()
    if rule == "wide":
        assert result.probes["p.d"].max() > 100


@pytest.mark.parametrize("reward_size", [1, 12])
def test_neuron_populations_as_pre_post_and_reward(reward_size):
    """Pre, post and reward spikes read from neuron groups (the suite's plastic projections start at inputs)."""
    rng = np.random.default_rng(reward_size)
    n = 12
    lif = dict(du=1024, dv=512, vth=1 << 12, refractory=1)
    pops = (
        CompiledPopulation(name="in", kind="PoissonInput", size=n, source=PoissonInput(rate_hz=[200.0])),
        CompiledPopulation(name="pre", kind="StochasticBinary", size=n, du=4095, bias_mant=-1000, params=(("noise_width", 1 << 15),)),
        CompiledPopulation(name="post", kind="LIF", size=n, v_init=rng.integers(0, 1 << 17, n), **lif),
        CompiledPopulation(name="rew", kind="LIF", size=reward_size, bias_mant=rng.integers(500, 1500, reward_size), bias_exp=6, **lif),
    )
    eye = np.arange(n)
    pre, post = np.nonzero(rng.random((n, n)) < 0.6)
    program = PlasticityProgram(dt="2^-1*x0*y1 - 2^-1*y0*x1 - 2^-4*u0*t", dw="2^-3*u0*t*y2 - 2^-6*y0*x2*y3",
                                x1=Trace(20, 6), x2=Trace(9.5, 3), y1=Trace(20, 6), y2=Trace(60, 4), y3=Trace(33.3, 0), t_epoch=2, reward="rew")
    projs = (
        CompiledProjection("in->pre", "in", "pre", n, n, eye, eye, np.full(n, 100), 1, num_weight_bits=8, weight_exp=2, sign_mode=SIGN_EXCITATORY),
        CompiledProjection("plastic", "pre", "post", n, n, pre, post, rng.integers(-100, 150, pre.size), 1, num_weight_bits=8, weight_exp=3,
                           sign_mode=SIGN_MIXED, plasticity=program),
    )
    blocks = tuple(CoreBlock(p.name, 0, p.size, core=c, chip=0) for c, p in enumerate(pops[1:]))
    net = probe_everything(CompiledNetwork("neurons", "loihi2", 1.0, 8, pops, projs, blocks=blocks))
    steps = 300
    result = b2backend.run(net, steps)
    spikes, probes = reference_run(net, steps)
    assert_equal_runs(result, spikes, probes, f"reward size {reward_size}")
    assert all(spikes[p.name].sum() > 10 for p in pops), {p.name: int(spikes[p.name].sum()) for p in pops}
    assert (result.probes["plastic.w"][-1] != lava_truncated(projs[1])).sum() > pre.size // 4
    assert result.probes["plastic.y2"].any() and result.probes["plastic.x2"].any() and result.probes["plastic.y3"].any()


def test_plastic_projection_without_synapses():
    """Traces still run; w/d/t probes are (steps, 0)."""
    net = _one_synapse_network(EDGE_PROGRAMS["wide"], SIGN_MIXED, np.zeros(6, dtype=np.int64), 6)
    empty = np.zeros(0, dtype=np.int64)
    proj = dataclasses.replace(net.projections[0], pre_idx=empty, post_idx=empty, weights=empty, delays=empty)
    net = dataclasses.replace(net, projections=(proj,))
    result = b2backend.run(net, 100)
    spikes, probes = reference_run(net, 100)
    assert_equal_runs(result, spikes, probes, "no synapses")
    assert result.probes["p.w"].shape == (100, 0) and result.probes["p.x1"].any()


def test_accumulator_arithmetic_against_fixedpoint():
    """The generated rule code on hand-set states (negative accumulators, clip at -2**15 - 1, final ranges) vs apply_rules."""
    program = PlasticityProgram(dw="7*2^8*x0*x1 - 8*2^8*y0*y1 - 3*2^-7*x0 + 2^-7*y0*w", dt="-5*2^-6*x0*x1*y1 + u0*sgn(t + 2)", t_epoch=1)
    lp = lower_program(program)
    rng = np.random.default_rng(3)
    n = 500
    st = init_learning_state(np.arange(n), np.arange(n), rng.integers(-256, 256, n), n, n)
    st.t[:] = rng.integers(-257, 256, n)
    st.x0[:] = rng.random(n) < 0.7
    st.y0[:] = rng.random(n) < 0.7
    st.cap_x_x0[0] = rng.integers(0, 128, n)
    st.cap_y_y0[0] = rng.integers(0, 128, n)
    st.cap_y_x0[0] = rng.integers(0, 128, n)
    inputs = {"w": st.w.copy(), "tag_t": st.t.copy(), "lx0": st.x0.astype(np.int64), "ly0": st.y0.astype(np.int64),
              "lcx1": st.cap_x_x0[0].copy(), "lcy1": st.cap_y_y0[0].copy(), "cyx1": st.cap_y_x0[0].copy(), "k": np.arange(n)}
    for sign_mode in (SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED):
        code, news = [], []
        for rule in lp.rules:
            new, scalar, vector = learning.rule_lines(rule, 21, 2, sign_mode)
            code = scalar + code + vector
            news.append((learning.SYN_VAR[learning.TARGET[rule.target]], new))
        code = ["u_on = 1"] + code + [f"{name} = {new}" for name, new in news]
        start = {k: v.copy() for k, v in inputs.items()}
        if sign_mode == SIGN_EXCITATORY:
            start["w"] = np.abs(start["w"]) % 256
        elif sign_mode == SIGN_INHIBITORY:
            start["w"] = -(np.abs(start["w"]) % 256)
        ref = init_learning_state(np.arange(n), np.arange(n), start["w"], n, n)
        for field in ("x0", "y0", "cap_x_x0", "cap_y_y0", "cap_y_x0"):
            setattr(ref, field, getattr(st, field).copy())
        ref.t = st.t.copy()
        draws = apply_rules(lp, ref, 0, 21, 2, sign_mode)
        out = run_code("\n".join(code), start)
        assert draws == 2 * n
        assert np.array_equal(out["w"], ref.w), sign_mode
        assert np.array_equal(out["tag_t"], ref.t), sign_mode
        assert (ref.t == -257).any() or (ref.t < -200).any()


def test_term_code_uses_lavas_widths():
    """A product of three 7-bit traces and a 9-bit variable is shifted right by 7 + 7 + 7 + 9 + 4 - 15 = 19 bits;
    only factors that can leave their width are clipped."""
    rule = PlasticityProgram(dw="x0*x1*y1*y2*w - y0*(w + 300)*(x1 + 1) + x0*(t - 255)*(t - 256)*sgn(d - 400)").rules["dw"]
    first, second, third = (learning.term_lines(term, "m") for term in rule.terms)
    assert f"m = m // {1 << 19}" in first and "clip" not in first[0]
    assert "clip((w + 300), -512, 511)" in second[0] and "clip((cxy1 + 1), -128, 127)" in second[0]  # x1 at the post spike
    assert " (tag_t + -255) " in third[0] and "clip((tag_t + -256), -512, 511)" in third[0] and "sign((tag_d + -400))" in third[0]


# ---------------------------------------------------------------- errors
def _edge(program: PlasticityProgram, **changes) -> CompiledNetwork:
    net = _one_synapse_network(program, SIGN_MIXED, np.zeros(8, dtype=np.int64), 8)
    proj = dataclasses.replace(net.projections[0], **changes)
    return dataclasses.replace(net, projections=(proj,))


@pytest.mark.parametrize("changes, match", [
    ({"delays": 2}, "projection 'p': a plastic projection must have delay 1"),
    ({"release_prob": 0.5}, "projection 'p': a plastic projection cannot have release_prob < 1"),
    ({"plasticity": PlasticityProgram(dw="x0", reward="nobody")}, "reward population 'nobody' is not in the network"),
])
def test_plastic_projection_errors(changes, match):
    with pytest.raises(BackendError, match=match):
        b2backend.run(_edge(STDP, **changes), 5)


def test_probability_factor_needs_stochastic_post_and_probe_names():
    net = _edge(GIBBS)
    lif = dataclasses.replace(net.populations[1], kind="LIF", params=())
    with pytest.raises(BackendError, match="post_factor='probability' needs a StochasticBinary post population, 'post' is LIF"):
        b2backend.run(dataclasses.replace(net, populations=(net.populations[0], lif, net.populations[2])), 5)
    with pytest.raises(BackendError, match="probe 'post.x1': variable 'x1' cannot be recorded"):
        b2backend.run(dataclasses.replace(net, probes=(Probe("post", "x1"),)), 5)
    bad_width = dataclasses.replace(net.populations[1], params=(("noise_width", 2**31 + 1),))
    with pytest.raises(BackendError, match="population 'post': StochasticBinary needs the integer parameter noise_width"):
        b2backend.run(dataclasses.replace(net, populations=(net.populations[0], bad_width, net.populations[2])), 5)


def test_eif_without_its_program_integers_rejected():
    net = _edge(STDP_EPOCH)
    eif = dataclasses.replace(net.populations[1], kind="EIF", params=())
    with pytest.raises(BackendError, match="population 'post': EIF needs the integer parameter"):
        b2backend.run(dataclasses.replace(net, populations=(net.populations[0], eif, net.populations[2])), 5)

"""yuragi.plasticity: STDP / R-STDP against Lava's own rule classes, and the Gibbs program's integer arithmetic.

The Gibbs tests check every number of the program's documented integer form
(yuragi/plasticity/gibbs.py, docs/plasticity.md) on the reference engine
yuragi.fixedpoint: the expected values are computed here from the documented
formulas and the RNG specification (``hash32(seed, STREAM_LEARNING + proj,
row, 4*k + v) >> 25`` is the rounding draw of variable v of synapse k).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuragi.errors import ModelError, RuleError
from yuragi.fixedpoint import apply_rules, init_learning_state, lower_program, trace_step
from yuragi.fixedpoint.learning import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from yuragi.ir import LIF, NetworkBuilder, PoissonInput, StochasticBinary
from yuragi.ir.plasticity import PlasticityProgram
from yuragi.plasticity import (
    GibbsParameters,
    expressible_scale,
    gibbs_parameters,
    gibbs_projections,
    gibbs_synapse,
    rstdp,
    stdp,
)
from yuragi.rng import STREAM_LEARNING, hash32

lava_stdp = pytest.importorskip("lava.proc.learning_rules.stdp_learning_rule")
lava_rstdp = pytest.importorskip("lava.proc.learning_rules.r_stdp_learning_rule")


def products(rule) -> list[tuple]:
    """Our parsed rule as (dependency, s_mantissa, exponent, factors)."""
    return [(t.dependency, t.signed_mantissa, t.exponent, tuple((f.symbol, f.offset, f.sgn) for f in t.factors)) for t in rule.terms]


def lava_products(lava_rule, target: str) -> list[tuple]:
    """Lava's parse of its own rule object in the same form."""
    out = []
    for p in lava_rule.active_product_series[target].products:
        dep = f"u{p.decimate_exponent}" if p.dependency == "u" else p.dependency
        factors = tuple((f.state_var, f.const if f.has_const() else 0, f.is_sgn) for f in p.factors)
        out.append((dep, p.s_mantissa, p.s_exp - 7, factors))
    return out


# --- STDP and R-STDP against Lava's classes


@pytest.mark.parametrize(
    "lr, a_plus, a_minus, t_epoch",
    [(1.0, 0.25, -0.125, 1), (0.5, 0.5, -0.25, 2), (1.0, 2.0, -1.0, 4), (0.25, 1.0, 0.0, 1)],
)
def test_stdp_is_lavas_stdploihi(lr: float, a_plus: float, a_minus: float, t_epoch: int) -> None:
    ours = stdp(a_plus, a_minus, tau_plus=10, tau_minus=12, learning_rate=lr, t_epoch=t_epoch)
    lava = lava_stdp.STDPLoihi(learning_rate=lr, A_plus=a_plus, A_minus=a_minus, tau_plus=10, tau_minus=12, t_epoch=t_epoch, rng_seed=1)
    theirs = [p for p in lava_products(lava, "dw") if p[1] != 0]  # Lava keeps a 0 * x0 * y1 product
    assert products(ours.rules["dw"]) == theirs
    assert (ours.x1.impulse, ours.x1.tau, ours.y1.impulse, ours.y1.tau) == (lava.x1_impulse, lava.x1_tau, lava.y1_impulse, lava.y1_tau)
    assert ours.t_epoch == lava.t_epoch


def test_rstdp_is_lavas_reward_modulated_stdp() -> None:
    ours = rstdp(0.5, -0.5, tau_plus=6, tau_minus=7, eligibility_decay=0.125, reward="r", impulse=20, t_epoch=2)
    lava = lava_rstdp.RewardModulatedSTDP(
        learning_rate=1, A_plus=0.5, A_minus=-0.5, pre_trace_decay_tau=6, post_trace_decay_tau=7,
        pre_trace_kernel_magnitude=20, post_trace_kernel_magnitude=20, eligibility_trace_decay_tau=0.125, t_epoch=2, rng_seed=1,
    )
    assert products(ours.rules["dt"]) == lava_products(lava, "dt")
    assert products(ours.rules["dw"]) == lava_products(lava, "dw")
    assert (ours.x1.impulse, ours.x1.tau, ours.t_epoch, ours.reward) == (lava.x1_impulse, lava.x1_tau, 2, "r")


def test_programs_reject_inexpressible_scales_naming_the_parameter() -> None:
    with pytest.raises(RuleError, match=r"stdp: learning_rate\*a_plus = 0.3 is not a Loihi product scale.*0.25 or 0.3125"):
        stdp(0.3, -0.25, 10, 10)
    with pytest.raises(RuleError, match="rstdp: eligibility_decay = 0.1 is not"):
        rstdp(0.5, -0.5, 6, 6, eligibility_decay=0.1, reward="r")
    with pytest.raises(RuleError, match="rstdp: reward must be the name of a population"):
        rstdp(0.5, -0.5, 6, 6, eligibility_decay=0.125, reward="")
    with pytest.raises(RuleError, match="stdp: impulse/tau_plus: impulse must be a number in"):
        stdp(0.25, -0.25, 10, 10, impulse=300)
    with pytest.raises(RuleError, match="stdp: t_epoch must be an integer in"):
        stdp(0.25, -0.25, 10, 10, t_epoch=64)
    with pytest.raises(RuleError, match="both 0"):
        stdp(0.0, 0.0, 10, 10)
    assert expressible_scale(3 * 2**-5) == (3, -5)
    assert expressible_scale(-8 * 2**-7) == (-1, -4)
    assert expressible_scale(9.0) is None and expressible_scale(0.1) is None


def _one_synapse_state(program: PlasticityProgram, w0: int = 0):
    lp = lower_program(program)
    return lp, init_learning_state(np.array([0]), np.array([0]), np.array([w0]), 1, 1)


def test_stdp_on_the_integer_engine_by_hand() -> None:
    """Traces without decay (tau 0): a post spike 3 steps after a pre spike adds a_plus * 16 exactly."""
    lp, s = _one_synapse_state(stdp(0.25, -0.125, tau_plus=0, tau_minus=0), w0=10)
    spikes = {0: (True, False), 3: (False, True), 5: (True, False)}
    w = []
    for row in range(7):
        pre, post = spikes.get(row, (False, False))
        trace_step(lp, s, row, np.array([pre]), np.array([post]), 1, 0)
        apply_rules(lp, s, row, 1, 0, SIGN_MIXED)
        w.append(int(s.w[0]))
    # row 3: +0.25 * x1 (= 16) = +4; row 5: -0.125 * y1 (= 16) = -2; no fraction, so no rounding
    assert w == [10, 10, 10, 14, 14, 12, 12]


def test_rstdp_weight_change_is_t_times_y2_over_32() -> None:
    """dw = u0*t*y2: product width 9 + 7 + 4 = 20 bits, shifted right by 5 in the engine."""
    prog = rstdp(1.0, 0.0, tau_plus=0, tau_minus=0, eligibility_decay=0.0625, reward="r", reward_impulse=16, reward_tau=0, impulse=16)
    lp, s = _one_synapse_state(prog, w0=0)
    trace_step(lp, s, 0, np.array([True]), np.array([False]), 1, 0, reward_spikes=np.array([False]))
    apply_rules(lp, s, 0, 1, 0, SIGN_MIXED)
    trace_step(lp, s, 1, np.array([False]), np.array([True]), 1, 0, reward_spikes=np.array([False]))
    apply_rules(lp, s, 1, 1, 0, SIGN_MIXED)
    assert (int(s.t[0]), int(s.w[0])) == (16, 0)  # t += a_plus * x1 = 16; no reward yet
    trace_step(lp, s, 2, np.array([False]), np.array([False]), 1, 0, reward_spikes=np.array([True]))
    apply_rules(lp, s, 2, 1, 0, SIGN_MIXED)
    assert int(s.w[0]) == 16 * 16 // 32  # = 8; t decays by 16/16 = 1 in the same epoch
    assert int(s.t[0]) == 15


# --- The Gibbs program


def _draws(seed: int, row: int, nnz: int, var: int) -> np.ndarray:
    """The documented rounding draws of variable ``var`` (0 = w, 2 = t) of projection 0."""
    return (hash32(seed, STREAM_LEARNING + 0, row, np.arange(nnz, dtype=np.uint32) * 4 + var) >> np.uint32(25)).astype(np.int64)


def _rounded(acc: np.ndarray, draws: np.ndarray) -> np.ndarray:
    return (acc >> 7) + (draws < (acc & 127))


ALL_TAGS = np.arange(-257, 256)


@pytest.mark.parametrize("q", [1, 17, 40, 63, 64, 65, 90, 127])
def test_gibbs_resampling_is_the_documented_hard_sigmoid(q: int) -> None:
    """At a resampling epoch, for every tag and weight: acc = q + 2 floor((4 - t)/8), rounded with the engine's draw."""
    params = GibbsParameters(a=3, m=4, k=2, q=q, kappa_t=0.5)
    complement = q > 64
    lp = lower_program(params.program())
    w_values = (-1, 0) if complement else (0, 1)
    w0 = np.repeat(w_values, ALL_TAGS.size)
    t0 = np.tile(ALL_TAGS, 2)
    n = w0.size
    for seed, row in [(1, 3), (7, 11), (12345, 4 * 97 - 1)]:  # (row + 1) % 2**k == 0: u2 = 1
        s = init_learning_state(np.arange(n), np.arange(n), w0, n, n)
        s.t[:] = t0
        apply_rules(lp, s, row, seed, 0, SIGN_INHIBITORY if complement else SIGN_EXCITATORY)
        acc = (q - 128 if complement else q) + 2 * np.floor_divide(4 - t0, 8)
        acc = np.minimum(acc, 0) if complement else np.maximum(acc, 0)
        assert np.array_equal(s.w, _rounded(acc, _draws(seed, row, n, 0)))
        assert set(np.unique(s.w)) <= set(w_values)
        # the tag decays by t * 2^-m with stochastic rounding; the accumulator
        # saturates at [-2^15 - 1, 2^15 - 1] after each product (t = -257 starts below it)
        acc_t = np.clip(t0 * 128, -(2**15) - 1, 2**15 - 1) - t0 * 2 ** (7 - params.m)
        assert np.array_equal(s.t, _rounded(acc_t, _draws(seed, row, n, 2)))
    # P(c = 1 | t) = acc / 128 spans [0, 1] exactly for q = 64
    if q == 64:
        assert acc.min() == 0 and acc.max() == 128


@pytest.mark.parametrize("a, kappa_t, q", [(0, 0.0, 64), (2, 0.21875, 64), (5, 3.5, 40), (7, 0.0, 100), (3, 0.625, 96)])
def test_gibbs_evidence_increment_is_documented(a: int, kappa_t: float, q: int) -> None:
    """Outside resampling epochs: t += -2^a x0 (y0 - y1/128) - kappa_t x0 (2c - 1) + 2^(a-8) x0, stochastically rounded."""
    params = GibbsParameters(a=a, m=5, k=3, q=q, kappa_t=kappa_t)
    complement = q > 64
    lp = lower_program(params.program())
    rng = np.random.default_rng(a)
    n = 600
    pre = rng.random(n) < 0.7
    post = rng.random(n) < 0.5
    prob7 = rng.integers(0, 128, n)
    c = rng.random(n) < 0.5
    w0 = c.astype(np.int64) - (1 if complement else 0)
    bias = 2 ** (a - 1) if a >= 1 else 0  # 2^(a-8) in 1/128 units: y1 = floor(128 p) is low by 1/256 on average
    kappa = round(128 * kappa_t)
    # tags for which no partial sum of the products leaves the 16-bit accumulator (saturation is
    # Lava's, applied after every product; the property test below covers the saturated tags)
    t_hi = (2**15 - 1 - 127 * 2**a - kappa - bias) // 128
    t_lo = -((2**15 + 1 - 2 ** (a + 7) - 2 * kappa) // 128)
    t0 = rng.integers(t_lo, t_hi + 1, n)
    s = init_learning_state(np.arange(n), np.arange(n), w0, n, n)
    s.t[:] = t0
    row, seed = 4, 99  # (row + 1) % 8 != 0: no decay, no resampling
    trace_step(lp, s, row, pre, post, seed, 0, post_prob7=prob7)
    apply_rules(lp, s, row, seed, 0, SIGN_INHIBITORY if complement else SIGN_EXCITATORY)
    incr = -(2 ** (a + 7)) * post + (2**a) * prob7 - kappa * (2 * c - 1) + bias
    acc = t0 * 128 + pre * incr
    expected = np.clip(_rounded(acc, _draws(seed, row, n, 2)), -257, 255)
    assert np.array_equal(s.t, expected)
    assert np.array_equal(s.w, w0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.integers(0, 7),
    m=st.integers(1, 7),
    k=st.integers(0, 2),
    q=st.integers(1, 127),
    kappa_t=st.sampled_from([0.0, 0.0078125, 0.25, 3.5, 56.0, 112.0]),
    seed=st.integers(0, 2**32 - 1),
    pattern=st.integers(0, 2**32 - 1),
)
def test_gibbs_weight_never_leaves_its_two_values(a: int, m: int, k: int, q: int, kappa_t: float, seed: int, pattern: int) -> None:
    """Adversarial spikes, probabilities and start tags: w stays in {0, 1} ({-1, 0} for q > 64), t in [-257, 255].

    Each step takes all-on, all-off or random pre and post spikes and
    probabilities 0, 127 or random, which drives tags into both saturations.
    """
    params = GibbsParameters(a, m, k, q, kappa_t)
    complement = q > 64
    lp = lower_program(params.program())
    rng = np.random.default_rng(pattern)
    n = 16
    w_values = np.array((-1, 0) if complement else (0, 1))
    s = init_learning_state(np.arange(n), np.arange(n), rng.choice(w_values, n), n, n)
    s.t[:] = rng.integers(-257, 256, n)

    def spikes() -> np.ndarray:
        return [np.ones(n, bool), np.zeros(n, bool), rng.random(n) < 0.5][rng.integers(3)]

    for row in range(24):
        prob7 = [np.zeros(n, np.int64), np.full(n, 127), rng.integers(0, 128, n)][rng.integers(3)]
        trace_step(lp, s, row, spikes(), spikes(), seed, 0, post_prob7=prob7)
        apply_rules(lp, s, row, seed, 0, SIGN_INHIBITORY if complement else SIGN_EXCITATORY)
        assert np.isin(s.w, w_values).all()
        assert s.t.min() >= -257 and s.t.max() <= 255


def test_gibbs_program_text_for_the_defaults() -> None:
    prog = gibbs_synapse(a=2, m=7, k=6, rho=0.5, kappa=0.0546875)
    # kappa_t = 4 * kappa = 7/32; x0 constant = kappa_t + 2^(a-8) = 30/128 = 5*2^-4 - 5*2^-6
    assert prog.dt == "-4*x0*y0 + 2^-5*x0*y1 - 7*2^-4*x0*w + 5*2^-4*x0 - 5*2^-6*x0 - 2^-7*u6*t"
    assert prog.dw == "-u6*w + 2^-1*u6 - 4*2^-6*u6*(t - 4)*(x2 + 1)"
    assert (prog.t_epoch, prog.post_factor, prog.x2.impulse) == (1, "probability", 0.0)
    assert gibbs_synapse(weight_unit=0.6).weight_unit == 0.6
    # the dw product keeps the mantissa -4: Lava normalises -8*2^-7 to the same term
    (term,) = [t for t in prog.rules["dw"].terms if t.factors and t.factors[0].symbol == "t"]
    assert (term.signed_mantissa, term.exponent) == (-4, -6)


def test_gibbs_parameters_map_to_floats_and_back() -> None:
    for a in range(8):
        for m in (1, 4, 7):
            for k in (0, 3, 9):
                for q in (32, 64, 100):
                    p = GibbsParameters(a, m, k, q, 0.0)
                    f = p.to_float(weight_step=0.6, temperature=2.0)
                    back = gibbs_parameters(f.tau_s, f.beta, f.p_s, f.rho, weight_step=0.6, temperature=2.0, midpoint=0.0)
                    assert back == p
    p = gibbs_parameters(tau_s=2000, beta=1.0, p_s=0.05, weight_step=0.6)
    assert (p.a, p.m, p.k, p.q) == (6, 7, 4, 64)  # 2^-1 ~ 0.6, 2^4 * 127.5 = 2040 ~ 2000, 1/16 ~ 0.05
    assert p.kappa_t == 3.5  # 2^6 * 0.75 * 0.6 / 8 = 3.6 -> 7 * 2^-1
    assert math.isclose(p.tau_s, 16 / -math.log1p(-1 / 128))
    assert math.isclose(p.evidence_limit, 4.0) and p.gain == 0.5 and p.p_s == 1 / 16


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(tau_s=10.0, beta=1.0, p_s=0.05), "tau_s = 10.0 steps is outside"),
        (dict(tau_s=2000.0, beta=1.0, p_s=1e-5), "p_s = 1e-05 is outside what the program can express"),
        (dict(tau_s=2000.0, beta=100.0, p_s=0.05), r"beta = 100.0 gives the conditional gain .* = 60, outside"),
        (dict(tau_s=2000.0, beta=1.0, p_s=0.05, rho=1.0), "rho must be in"),
        (dict(tau_s=2000.0, beta=-1.0, p_s=0.05), "beta must be > 0"),
        (dict(tau_s=2000.0, beta=1.0, p_s=0.05, midpoint=2.0), "midpoint must be in"),
    ],
)
def test_gibbs_parameters_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(RuleError, match=match):
        gibbs_parameters(**kwargs, weight_step=0.6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(a=8), r"a \(tag scale exponent\) must be an integer in \[0, 7\]"),
        (dict(m=0), r"m \(tag decay exponent\) must be an integer in \[1, 7\]"),
        (dict(k=10), r"k \(resampling exponent"),
        (dict(rho=0.001), "rounds to q = 0/128"),
        (dict(kappa=-1.0), "kappa must be >= 0"),
        (dict(a=1.5), "must be an integer"),
    ],
)
def test_gibbs_synapse_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(RuleError, match=match):
        gibbs_synapse(**kwargs)
    with pytest.raises(RuleError, match="kappa_t must be 0 or a Loihi scale"):
        GibbsParameters(kappa_t=0.3)


def _builder(post_model=None) -> NetworkBuilder:
    b = NetworkBuilder("gibbs", seed=2)
    b.input("x", 30, PoissonInput(rate_hz=[100.0]))
    b.population("h", 8, post_model or StochasticBinary(temperature=0.5))
    return b


@pytest.mark.parametrize("K, rho", [(1, 0.5), (2, 0.5), (3, 0.3), (1, 0.8)])
def test_gibbs_projections_build_the_contacts(K: int, rho: float) -> None:
    b = _builder()
    names = gibbs_projections(b, "x", "h", g=0.4, K=K, rho=rho, seed=5, name="W")
    net = b.build()
    assert names == tuple(f"W.c{k}" for k in range(K)) + ("W.base",)
    step = 0.8 / K
    complement = round(128 * rho) > 64
    total = np.zeros((8, 30))
    ones = 0
    for name in names[:-1]:
        proj = net.projection(name)
        assert proj.is_sparse and proj.n_synapses == 240  # zeros kept
        values = proj.weights.values
        stored = values / step
        assert set(np.unique(stored)) <= ({-1.0, 0.0} if complement else {0.0, 1.0})
        ones += int(np.count_nonzero(stored + complement == 1))
        assert proj.plasticity.weight_unit == step and proj.plasticity.post_factor == "probability"
        # the midpoint term uses T = 0.5: kappa = 0.75 * step / 4, times 2^a = 4, rounded to a Loihi scale
        assert proj.plasticity == gibbs_synapse(rho=rho, kappa=0.75 * step / 4, weight_unit=step)
        total += proj.dense_weights(8, 30)
    base = net.projection("W.base")
    assert np.all(base.weights.values == (0.4 if complement else -0.4))
    total += base.dense_weights(8, 30)
    allowed = {round(0.4 * (2 * n - K) / K, 9) for n in range(K + 1)}
    assert set(np.round(np.unique(total), 9)) <= allowed
    n_contacts = 240 * K
    assert abs(ones - rho * n_contacts) <= 4 * math.sqrt(n_contacts * rho * (1 - rho))
    # the same seed gives the same contacts, another seed others
    b2 = _builder()
    gibbs_projections(b2, "x", "h", g=0.4, K=K, rho=rho, seed=5, name="W")
    assert b2.build().projection("W.c0") == net.projection("W.c0")
    b3 = _builder()
    gibbs_projections(b3, "x", "h", g=0.4, K=K, rho=rho, seed=6, name="W")
    assert b3.build().projection("W.c0") != net.projection("W.c0")


def test_gibbs_projections_mask_and_errors() -> None:
    b = _builder()
    mask = np.zeros((8, 30), dtype=bool)
    mask[:, :5] = True
    gibbs_projections(b, "x", "h", g=0.4, mask=mask)
    assert b.build().projection("x->h.c0").n_synapses == 40
    with pytest.raises(ModelError, match="post population 'h' must be StochasticBinary"):
        gibbs_projections(_builder(LIF()), "x", "h", g=0.4)
    with pytest.raises(ModelError, match="add population 'y' to the builder"):
        gibbs_projections(_builder(), "x", "y", g=0.4)
    with pytest.raises(ModelError, match="K must be an integer >= 1"):
        gibbs_projections(_builder(), "x", "h", g=0.4, K=0)
    with pytest.raises(ModelError, match="g must be > 0"):
        gibbs_projections(_builder(), "x", "h", g=-1.0)
    with pytest.raises(ModelError, match="mask must be a bool array of shape"):
        gibbs_projections(_builder(), "x", "h", g=0.4, mask=np.ones((30, 8), dtype=bool))


def test_learning_phase_computes_only_the_synapses_a_product_touches() -> None:
    """apply_rules skips synapses whose every product is 0 (speed); that must not change any result.

    Gibbs program (dt: x0 terms and a u6 term; dw: u6 terms only), 400 synapses, random tags
    including the saturated -257 (Lava clips it to -256 in any learning phase). In epochs without
    u6, the synapses with a pre spike must get exactly what they get when every synapse has one,
    and the others keep their values (except -257: the accumulator clip makes it -256.0078, rounded).
    """
    from yuragi.fixedpoint.learning import decimation_active

    lp = lower_program(gibbs_synapse(a=2, m=7, k=6, rho=0.5, kappa=0.0546875))
    rng = np.random.default_rng(3)
    n_pre, n_post = 20, 20
    pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post))
    pre, post = pre.ravel(), post.ravel()

    def state(x0: np.ndarray):
        s = init_learning_state(pre, post, (rng_w.random(pre.size) < 0.5).astype(np.int64), n_pre, n_post)
        s.t = tags.copy()
        s.y[0] = probs.copy()
        s.x0[:] = x0
        s.y0[:] = post_spikes
        s.cap_y_x0[:] = s.y[:, post]
        return s

    for row in (5, 63):  # u6 = 0, then u6 = 1
        tags = rng.integers(-257, 256, pre.size)
        tags[rng.random(pre.size) < 0.1] = -257
        probs = rng.integers(0, 128, n_post)
        post_spikes = rng.random(n_post) < 0.3
        spiked = rng.random(n_pre) < 0.4
        rng_w = np.random.default_rng(row)
        part = state(spiked)
        rng_w = np.random.default_rng(row)
        full = state(np.ones(n_pre, dtype=bool))
        w0 = part.w.copy()
        apply_rules(lp, part, row, 1, 0, SIGN_EXCITATORY)
        apply_rules(lp, full, row, 1, 0, SIGN_EXCITATORY)
        touched = spiked[pre]
        if decimation_active(lp, row):
            assert not np.array_equal(part.w, w0)
        else:
            assert np.array_equal(part.w, w0)  # dw has only u6 products
            rest, t_rest = tags[~touched], part.t[~touched]
            assert np.array_equal(t_rest[rest > -257], rest[rest > -257])
            # -257 << 7 is clipped to the accumulator's -32769 = -256.0078 * 128, then rounded stochastically
            saturated = t_rest[rest == -257]
            assert saturated.size and set(saturated.tolist()) <= {-257, -256} and (saturated == -256).mean() > 0.9
        assert np.array_equal(part.t[touched], full.t[touched])
        assert np.array_equal(part.w[touched], full.w[touched])

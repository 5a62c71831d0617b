"""The float DSNN (yuragi.models.dsnn): data, Gibbs-synapse evidence, learning, analyses, IR network.

Exactness checks compare the vectorised code with brute-force loops written
here from the definitions (research/dsnn.md section 2); learning checks
train the small preset on digits with fixed seeds and assert measured
accuracies with stated margins; the spectrum analysis is checked on
synthetic data with a known power law.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from yuragi.errors import FileFormatError, ModelError
from yuragi.models.dsnn import DSNN, DSNNConfig, load_digits_split, make_dataset
from yuragi.models.dsnn.analysis import (
    cvpca_spectrum,
    fit_power_law,
    hidden_repeats,
    power_law_alpha,
    train_sgd_control,
    turnover_curve,
)
from yuragi.models.dsnn.configs import preset
from yuragi.models.dsnn.float_model import GibbsLayer, activation
from yuragi.models.dsnn.network import build_network, effective_weights


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


# ----------------------------------------------------------------------------- data
def test_digits_split_is_fixed_stratified_and_seeded(digits):
    assert digits.x_train.shape == (1257, 64) and digits.x_test.shape == (540, 64)
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    counts = np.bincount(digits.y_test, minlength=10)
    totals = counts + np.bincount(digits.y_train, minlength=10)
    assert np.all(np.abs(counts - 0.3 * totals) <= 1)  # stratified: 30 % of every class
    again = load_digits_split()
    assert np.array_equal(again.x_train, digits.x_train) and np.array_equal(again.y_test, digits.y_test)
    other = load_digits_split(seed=1)
    assert not np.array_equal(other.y_test, digits.y_test)


def test_make_dataset_accepts_any_pixel_array_and_rejects_bad_ones():
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 784)), np.repeat(np.arange(5), 10)
    ds = make_dataset(x, y, test_fraction=0.2, seed=3, name="mnist_like")
    assert ds.n_pixels == 784 and ds.n_classes == 5 and ds.x_test.shape == (10, 784)
    with pytest.raises(ModelError, match=r"x must hold spike probabilities in \[0, 1\]"):
        make_dataset(x * 255, y)
    with pytest.raises(ModelError, match="x must be a 2-D array"):
        make_dataset(x[0], y[:1])
    with pytest.raises(ModelError, match=r"y must have shape \(50,\)"):
        make_dataset(x, y[:10])
    with pytest.raises(ModelError, match="test_fraction"):
        make_dataset(x, y, test_fraction=1.5)


def test_config_errors_name_the_field():
    with pytest.raises(ModelError, match="field 'activation' must be one of logistic, pwl"):
        DSNNConfig(activation="tanh").validate()
    with pytest.raises(ModelError, match="field 'rho' must be in"):
        DSNNConfig(rho=1.0).validate()
    with pytest.raises(ModelError, match="no field 'tau'"):
        DSNNConfig().replace(tau=3)
    with pytest.raises(ModelError, match="unknown DSNN preset 'huge'"):
        preset("huge")
    net = DSNN(DSNNConfig(n_hidden=5), 4, 3)
    with pytest.raises(ModelError, match=r"labels must be 2 integers in \[0, 3\)"):
        net.train(np.zeros((2, 4)), np.array([0, 3]), 2)
    with pytest.raises(ModelError, match=r"x must have shape \(n, 4\)"):
        net.predict(np.zeros((2, 5)))


# ----------------------------------------------------------------------------- evidence against brute force
def _brute_evidence(layer: GibbsLayer, pre: np.ndarray, post: np.ndarray, kind: str, n: float) -> np.ndarray:
    """Sum over the batch of log P(post | c_k = 1) - log P(post | c_k = 0), each contact by itself (loops)."""
    K, n_post, n_pre = layer.c.shape
    out = np.zeros(layer.c.shape)
    for k in range(K):
        for i in range(n_post):
            for j in range(n_pre):
                logp = []
                for value in (True, False):
                    c = layer.c.copy()
                    c[k, i, j] = value
                    w = layer.g * (2.0 * c.sum(axis=0) - K) / K
                    p = activation(pre @ w[i], kind, n)
                    if kind == "pwl":
                        p = np.clip(p, 2.0**-8, 1 - 2.0**-8)
                    logp.append(np.log(np.where(post[:, i] == 1, p, 1 - p)))
                out[k, i, j] = np.sum(logp[0] - logp[1])
    return out


def _layer_and_activity(rng, K=3, n_post=4, n_pre=5, b=7, g=1.3, kind="logistic"):
    layer = GibbsLayer(rng.random((K, n_post, n_pre)) < 0.5, np.zeros((K, n_post, n_pre)), g)
    pre = (rng.random((b, n_pre)) < 0.5).astype(float)
    u = pre @ layer.weights.T
    post = (rng.random((b, n_post)) < activation(u, kind)).astype(float)
    return layer, pre, post, u


@pytest.mark.parametrize("kind", ["logistic", "pwl"])
def test_exact_evidence_equals_brute_force_log_likelihood_ratio(kind):
    rng = np.random.default_rng(1)
    layer, pre, post, u = _layer_and_activity(rng, kind=kind)
    cfg = DSNNConfig(evidence="exact", activation=kind)
    assert np.allclose(layer.evidence(pre, post, u, cfg), _brute_evidence(layer, pre, post, kind, 4.0), atol=1e-10)


def test_midpoint_is_second_order_and_delta_first_order():
    rng = np.random.default_rng(2)
    errs = {}
    for g in (0.2, 0.1):
        layer, pre, post, u = _layer_and_activity(rng, K=1, g=g, b=50)
        exact = layer.evidence(pre, post, u, DSNNConfig(evidence="exact"))
        for rule in ("midpoint", "delta"):
            errs[rule, g] = np.abs(layer.evidence(pre, post, u, DSNNConfig(evidence=rule)) - exact).max()
    # halving dw divides the midpoint error by ~8 (O(dw^3)) and the delta error by ~4 (O(dw^2))
    assert errs["midpoint", 0.2] / errs["midpoint", 0.1] > 6.0
    assert 3.0 < errs["delta", 0.2] / errs["delta", 0.1] < 5.0
    assert errs["midpoint", 0.1] < 0.1 * errs["delta", 0.1]


def test_linear_midpoint_is_delta_plus_the_midpoint_term():
    rng = np.random.default_rng(3)
    layer, pre, post, u = _layer_and_activity(rng, K=2, g=0.8, kind="pwl")
    cfg = DSNNConfig(evidence="linear_midpoint", activation="pwl", noise_width=4.0, midpoint_nu=0.75)
    delta = layer.evidence(pre, post, u, cfg.replace(evidence="delta"))
    d = layer.dw
    expected = delta + 0.75 * d * d / 8.0 * pre.sum(axis=0)[None, None, :] * (2.0 * layer.c - 1.0)
    assert np.allclose(layer.evidence(pre, post, u, cfg), expected)


def test_exact_topdown_equals_brute_force():
    rng = np.random.default_rng(4)
    cfg = DSNNConfig(n_hidden=6, label_copies=2, contacts=2, gain_label=2.0, topdown="exact")
    net = DSNN(cfg, 5, 3, seed=4)
    b = 4
    h = (rng.random((b, 6)) < 0.5).astype(float)
    y = net.label_targets(rng.integers(0, 3, b))
    w = net.label.weights
    u_y = np.concatenate([h, np.ones((b, 1))], axis=1) @ w.T
    td = net._topdown(h, y, u_y)
    for s in range(b):
        for i in range(6):
            logp = []
            for value in (1.0, 0.0):
                hh = h[s].copy()
                hh[i] = value
                p = activation(np.append(hh, 1.0) @ w.T)
                logp.append(np.sum(np.log(np.where(y[s] == 1, p, 1 - p))))
            assert td[s, i] == pytest.approx(logp[0] - logp[1], abs=1e-10)


# ----------------------------------------------------------------------------- resampling
@pytest.mark.parametrize("prob_kind", ["sigmoid", "hard"])
def test_resampled_contacts_follow_the_conditional(prob_kind):
    L = np.linspace(-3, 3, 7)[None, None, :].repeat(2000, axis=1)
    layer = GibbsLayer(np.zeros(L.shape, dtype=bool), L, 1.0)
    cfg = DSNNConfig(resample_prob=prob_kind, rho=0.3, beta=0.7)
    layer.resample(np.random.default_rng(5), 1.0, cfg, cfg.beta)
    z = math.log(0.3 / 0.7) + 0.7 * L[0, 0]
    want = 1 / (1 + np.exp(-z)) if prob_kind == "sigmoid" else np.clip(0.5 + z / 4, 0, 1)
    got = layer.c.mean(axis=1)[0]
    assert np.all(np.abs(got - want) < 4 * np.sqrt(want * (1 - want) / 2000) + 1e-9)


def test_synchronous_resampling_happens_every_period():
    net = DSNN(DSNNConfig(n_hidden=3, resample_period=4, p_resample=1.0, batch=1), 2, 2)
    probs = []
    for _ in range(12):
        probs.append(net._resample_prob(1))
        net.steps += 1
    assert probs == [0, 0, 0, 1] * 3
    net.steps = 0
    assert net._resample_prob(8) == 1.0  # two events in 8 steps, p = 1
    net2 = DSNN(DSNNConfig(n_hidden=3, resample_period=1, p_resample=0.1), 2, 2)
    assert net2._resample_prob(32) == pytest.approx(1 - 0.9**32)


# ----------------------------------------------------------------------------- learning
def test_same_seed_same_network_and_checkpoint_continues_identically(digits, tmp_path):
    cfg = preset("small", n_hidden=40, label_copies=1)
    a, b = DSNN(cfg, 64, 10, seed=7), DSNN(cfg, 64, 10, seed=7)
    a.train(digits.x_train, digits.y_train, 96)
    b.train(digits.x_train, digits.y_train, 96)
    assert np.array_equal(a.hidden.c, b.hidden.c) and np.array_equal(a.label.L, b.label.L)
    c = DSNN(cfg, 64, 10, seed=8).train(digits.x_train, digits.y_train, 96)
    assert not np.array_equal(a.hidden.c, c.hidden.c)
    path = a.save(tmp_path / "net.npz")
    loaded = DSNN.load(path)
    a.train(digits.x_train, digits.y_train, 64)
    loaded.train(digits.x_train, digits.y_train, 64)
    assert np.array_equal(a.label.c, loaded.label.c) and np.array_equal(a.hidden.L, loaded.hidden.L)
    (tmp_path / "bad.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(FileFormatError, match="cannot read DSNN checkpoint"):
        DSNN.load(tmp_path / "bad.npz")


@pytest.fixture(scope="module")
def small_trained(digits):
    """The small preset trained for 4 passes over the training digits (seed 0)."""
    net = DSNN(preset("small"), digits.n_pixels, digits.n_classes, seed=0)
    before = net.accuracy(digits.x_test, digits.y_test, seed=0)
    net.train(digits.x_train, digits.y_train, 4 * digits.x_train.shape[0])
    return net, before


def test_small_dsnn_learns_digits(digits, small_trained):
    net, before = small_trained
    assert before < 0.25  # random contacts: near chance (0.1)
    acc = net.accuracy(digits.x_test, digits.y_test, seed=0)
    assert acc >= 0.85, acc  # measured 0.87 (full size: benchmarks/dsnn.py)
    assert net.accuracy(digits.x_test, digits.y_test, seed=0, resample=True) >= 0.85


def test_small_dsnn_keeps_its_accuracy_while_contacts_keep_resampling(digits, small_trained):
    net, _ = small_trained
    trained_steps = net.steps
    copy = DSNN(net.config, 64, 10, seed=0)
    copy.hidden.c, copy.hidden.L = net.hidden.c.copy(), net.hidden.L.copy()
    copy.label.c, copy.label.L = net.label.c.copy(), net.label.L.copy()
    copy.steps = net.steps
    curve = turnover_curve(copy, digits, presentations=4 * digits.x_train.shape[0], every=digits.x_train.shape[0], mode="free")
    assert curve[-1]["steps"] >= trained_steps
    assert curve[-1]["contacts_changed"] > 0.01  # the contacts do turn over
    start = curve[0]["accuracy"]
    assert max(abs(p["accuracy"] - start) for p in curve) <= 0.02, curve


@pytest.fixture(scope="module")
def full_trained(digits):
    """The full-size 'hardware' preset (1000 hidden units) trained for TRAIN_EPOCHS passes (seed 0); ~6 s."""
    from yuragi.models.dsnn.configs import TRAIN_EPOCHS

    net = DSNN(preset("hardware"), digits.n_pixels, digits.n_classes, seed=0)
    net.train(digits.x_train, digits.y_train, TRAIN_EPOCHS * digits.x_train.shape[0])
    return net


def test_full_size_dsnn_reaches_90_percent_on_digits(digits, full_trained):
    acc = full_trained.accuracy(digits.x_test, digits.y_test, seed=0)
    assert acc >= 0.90, acc  # measured 0.93 (issue #9 target: >= 0.90)


@pytest.mark.slow
def test_full_size_dsnn_keeps_its_accuracy_for_as_long_as_it_trained(digits, full_trained):
    from yuragi.models.dsnn.analysis import _copy_net

    net = _copy_net(full_trained)
    n = digits.x_train.shape[0]
    curve = turnover_curve(net, digits, presentations=full_trained.presentations, every=4 * n, mode="free")
    assert curve[-1]["steps"] >= full_trained.steps
    assert max(abs(p["accuracy"] - curve[0]["accuracy"]) for p in curve) <= 0.02, curve


# ----------------------------------------------------------------------------- analyses
def _synthetic_repeats(alpha: float, noise: float, n_img: int = 1500, n_units: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n_units, n_units)))
    scale = np.arange(1, n_units + 1) ** (-alpha / 2)
    signal = (rng.normal(size=(n_img, n_units)) * scale) @ q.T
    return signal + noise * rng.normal(size=signal.shape), signal + noise * rng.normal(size=signal.shape)


@pytest.mark.parametrize(("alpha", "noise"), [(0.8, 0.1), (1.0, 0.1), (1.5, 0.05)])
def test_cvpca_recovers_a_known_power_law_through_noise(alpha, noise):
    # noise sd per unit and repeat; at much lower signal-to-noise in the fitted ranks
    # (e.g. noise 0.3 for alpha 1.5) the estimated axes degrade and alpha comes out low
    r1, r2 = _synthetic_repeats(alpha, noise=noise)
    got, _, used = fit_power_law(cvpca_spectrum(r1, r2), (5, 50))
    assert used == 46
    assert abs(got - alpha) < 0.1, got
    # plain PCA of one noisy repeat is flattened by the noise floor; cross-validation removes it
    plain = np.linalg.svd(r1 - r1.mean(0), compute_uv=False) ** 2 / (r1.shape[0] - 1)
    assert fit_power_law(plain, (5, 50))[0] < got - 0.05


def test_power_law_bootstrap_interval_brackets_the_estimate():
    r1, r2 = _synthetic_repeats(1.2, n_img=800, n_units=120, noise=0.1, seed=3)
    law = power_law_alpha(r1, r2, ranks=(5, 50), n_boot=40, seed=1)
    assert law.ci[0] < law.alpha < law.ci[1]
    assert law.ci[0] < 1.2 + 0.1 and law.ci[1] > 1.2 - 0.1
    assert law.ci[1] - law.ci[0] < 0.3
    assert law.spectrum[law.spectrum > 0].sum() == pytest.approx(1.0)


def test_hidden_repeats_are_independent_samples(digits):
    net = DSNN(preset("small", n_hidden=50), 64, 10)
    r1, r2 = hidden_repeats(net.hidden.weights, digits.x_test[:100], 20, seed=3)
    assert r1.shape == (100, 50) and not np.array_equal(r1, r2)
    assert abs(r1.mean() - r2.mean()) < 0.02  # same expected rates


def test_sgd_control_learns_digits(digits):
    ctrl = train_sgd_control(digits, n_hidden=100, label_copies=1, epochs=15, seed=0)
    assert ctrl.history[-1]["accuracy"] >= 0.93  # mean-field network
    assert ctrl.accuracy(digits.x_test, digits.y_test, steps=50) >= 0.88  # stochastic binary network


# ----------------------------------------------------------------------------- IR network
def test_ir_network_carries_the_dsnn_contacts(digits):
    net = DSNN(preset("small", n_hidden=40, contacts=2), 64, 10, seed=2)
    net.train(digits.x_train, digits.y_train, 64)
    ir = build_network(net, image=digits.x_test[0], seed=5)
    assert [(p.name, p.size) for p in ir.populations] == [("x", 64), ("on", 1), ("h", 40), ("y", 40)]
    assert ir.seed == 5
    assert np.allclose(effective_weights(ir, "W"), net.hidden.weights[:, :64])
    assert np.allclose(effective_weights(ir, "W_bias"), net.hidden.weights[:, 64:])
    assert np.allclose(effective_weights(ir, "U"), net.label.weights[:, :40])
    assert np.allclose(effective_weights(ir, "U_bias"), net.label.weights[:, 40:])
    plastic = [p for p in ir.projections if p.plasticity is not None]
    assert sorted(p.name for p in plastic) == sorted(f"{g}.c{k}" for g in ("W", "W_bias", "U", "U_bias") for k in range(2))
    assert all(p.plasticity.post_factor == "probability" for p in plastic)
    assert np.allclose(ir.population("x").model.rate_hz, digits.x_test[0] * 1000.0)
    static = build_network(net, plastic=False)
    assert [p.name for p in static.projections] == ["W", "W_bias", "U", "U_bias"]
    assert np.allclose(static.projection("U").weights, net.label.weights[:, :40])
    with pytest.raises(ModelError, match="image must be 64 intensities"):
        build_network(net, image=np.ones(10))
    train = build_network(net, phase="train")
    assert train.population("y").model.clamp == "label" and train.population("label").size == 40
    assert train.population("x").is_input and ir.population("y").model.clamp is None
    with pytest.raises(ModelError, match="expressible only with topdown='none'"):
        build_network(DSNN(preset("small", n_hidden=40, topdown="exact"), 64, 10), phase="train")

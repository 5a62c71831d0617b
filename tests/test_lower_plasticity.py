"""Plastic projections, StochasticBinary populations and stochastic release through `yuragi compile`.

Covers (issue #7, compiler side): the IR's cross-reference checks of plastic
projections, the plasticity lowering pass (compiler/lower.py: learning-engine
limits and native / microcode / emulated statuses), quantization (noise
width, 8-bit plastic weights, exact weight units), synaptic-memory accounting
of learning synapses, and the report's plasticity section.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from rich.console import Console

from yuragi.cli import main
from yuragi.compiler import compile_network, load_compiled, save_compiled
from yuragi.compiler.compiled import EMULATED, MICROCODE, NATIVE, SIGN_EXCITATORY, SIGN_MIXED
from yuragi.compiler.lower import MAC_BITS, lower_plasticity
from yuragi.compiler.quantize import effective_weights, quantize
from yuragi.errors import CompileError, ModelError
from yuragi.fixedpoint.learning import rule_width_bits
from yuragi.fixedpoint.stochastic import stochastic_binary_spikes
from yuragi.ir import LIF, NetworkBuilder, PlasticityProgram, PoissonInput, RasterInput, StochasticBinary, Trace, save_network

STDP = PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1", x1=Trace(16, 8), y1=Trace(16, 8))
STDP_TAG = PlasticityProgram(dw="2^-4*x1*y0 - 2^-4*y1*x0", dt="x0*y1", x1=Trace(16, 8), y1=Trace(16, 8), t_epoch=2)
PROB = PlasticityProgram(dw="2^-7*x0*y1 - 2^-1*u2*w", post_factor="probability", weight_unit=0.125)
REWARD = PlasticityProgram(dt="2^-1*x0*y1 - 2^-1*y0*x1", dw="2^-4*u0*t*y2", x1=Trace(20, 6), y1=Trace(20, 6), y2=Trace(60, 4),
                           t_epoch=2, reward="r")


def with_section(profile, section, **changes):
    """A copy of ``profile`` with some values of one section changed."""
    return dataclasses.replace(profile, **{section: dataclasses.replace(getattr(profile, section), **changes)})


def two_layer(program=STDP, post_model=None, n_pre=4, n_post=3, weights=None, **connect):
    """src (raster input, n_pre) -> dst (post_model, n_post) through projection 'p'; plus a 1-neuron input 'r'."""
    b = NetworkBuilder("net", dt=1.0)
    b.input("src", n_pre, RasterInput(raster=np.zeros((1, n_pre), bool)))
    b.input("r", 1, PoissonInput([5.0]))
    b.population("dst", n_post, post_model or LIF())
    w = np.full((n_post, n_pre), 0.5) if weights is None else weights
    b.connect("src", "dst", w, plasticity=program, name="p", **connect)
    return b.build()


def mixed_network() -> object:
    """A StochasticBinary population, a probability-factor program, STDP with a tag, a reward rule, a release."""
    rng = np.random.default_rng(0)
    b = NetworkBuilder("mix", dt=1.0, seed=3)
    b.input("x", 8, PoissonInput([50.0]))
    b.input("r", 1, PoissonInput([5.0]))
    b.population("h", 6, StochasticBinary(temperature=0.5, bias=-0.2))
    b.population("o", 5, LIF())
    b.connect("x", "h", rng.integers(0, 4, (6, 8)) * 0.125, plasticity=PROB, name="gibbs")
    b.connect("h", "o", rng.uniform(0.1, 2.0, (5, 6)), plasticity=STDP_TAG, name="stdp")
    b.connect("x", "o", rng.uniform(-1.0, 1.0, (5, 8)), plasticity=REWARD, name="rew")
    b.connect("x", "o", 0.3, release_prob=0.5, name="rel")
    return b.build()


# ------------------------------------------------------------------ IR validation


def test_plastic_projection_cross_reference_problems_are_all_listed():
    b = NetworkBuilder("bad")
    b.input("src", 4, PoissonInput([10.0]))
    b.population("dst", 3, LIF())
    prog = PlasticityProgram(dw="x0*y1", post_factor="probability", reward="nowhere")
    b.connect("src", "dst", 0.5, delays=3, release_prob=0.5, plasticity=prog, name="p")
    with pytest.raises(ModelError) as info:
        b.build()
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert str(info.value).count("\n") == 0 and str(info.value).endswith("(and 3 more problem(s))")
    assert all(line.startswith("projection 'p': ") for line in problems)
    delays, release, post, reward = problems
    assert "field 'delays' must be 1 on a plastic projection" in delays and "LearningDense has no synaptic delays" in delays
    assert "got delays up to 3 steps" in delays
    assert "field 'release_prob' must be 1 on a plastic projection" in release and "got 0.5" in release
    assert "'post_factor' = 'probability' needs a StochasticBinary post population" in post and "'dst' is LIF" in post
    assert "'reward' names population 'nowhere', which does not exist (populations: src, dst)" in reward


def test_reward_population_size_and_probability_post_population():
    for n_reward, ok in ((1, True), (3, True), (2, False)):
        b = NetworkBuilder("r")
        b.input("src", 4, PoissonInput([10.0]))
        b.input("rew", n_reward, PoissonInput([10.0]))
        b.population("dst", 3, StochasticBinary())
        prog = PlasticityProgram(dw="x0*y1 - y0*x1 + u0*y2", reward="rew", post_factor="probability")
        b.connect("src", "dst", 0.5, plasticity=prog, name="p")
        if ok:
            assert b.build().projection("p").plasticity.reward == "rew"
        else:
            with pytest.raises(ModelError) as info:
                b.build()
            (line,) = info.value.problems
            assert line == ("projection 'p': plasticity field 'reward' names population 'rew' of 2 neurons; it must have "
                            "1 neuron (broadcast to every post neuron) or 3 (one per neuron of 'dst')")


# ------------------------------------------------------------------ lowering: statuses


def statuses_of(statuses, element):
    return {s.feature: s for s in statuses if s.element == element}


def test_two_factor_rules_are_native_on_both_chips(l1, l2):
    for profile in (l1, l2):
        statuses, problems = lower_plasticity(two_layer(STDP), profile)
        assert problems == []
        found = statuses_of(statuses, "projection 'p'")
        assert set(found) == {"plasticity", "stochastic rounding of learning"}
        assert found["plasticity"].status == NATIVE and "t_epoch=1" in found["plasticity"].note
        rounding = found["stochastic rounding of learning"]
        assert rounding.status == NATIVE
        assert "yuragi's counter-based RNG" in rounding.note and "chip's own generators on hardware" in rounding.note


@pytest.mark.parametrize("kind", ["probability", "reward"])
def test_three_factor_parts_need_loihi2_microcode(kind, l1, l2):
    if kind == "probability":
        net, feature = two_layer(PlasticityProgram(dw="x0*y1", post_factor="probability"), StochasticBinary()), "3-factor learning: post_factor 'probability'"
    else:
        net, feature = two_layer(PlasticityProgram(dw="x0*y2 - y0*x1", y2=Trace(30, 5), reward="r")), "3-factor learning: reward population 'r'"
    statuses, problems = lower_plasticity(net, l2)
    assert problems == [] and statuses_of(statuses, "projection 'p'")[feature].status == MICROCODE
    statuses, problems = lower_plasticity(net, l1)
    (line,) = problems
    assert line.startswith("projection 'p': plasticity ") and "cannot run on Loihi 1" in line
    assert "learning.three_factor = false" in line and line.endswith("use --allow-emulated to emulate it, or --profile loihi2")
    assert feature not in statuses_of(statuses, "projection 'p'")
    statuses, problems = lower_plasticity(net, l1, allow_emulated=True)
    assert problems == [] and statuses_of(statuses, "projection 'p'")[feature].status == EMULATED


def test_learning_engine_limits(l1):
    assert rule_width_bits(PlasticityProgram(dw="x0*w*d*t").rules["dw"]) == 32 > MAC_BITS
    assert rule_width_bits(PlasticityProgram(dw="x0*w*d*y1").rules["dw"]) == 30
    tight = with_section(l1, "learning", max_epoch=4, max_product_terms=1, pre_traces=0)
    prog = PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1", dt="x0*w*d*t", x1=Trace(16, 4), y1=Trace(16, 4), t_epoch=8)
    statuses, problems = lower_plasticity(two_layer(prog), tight)
    assert len(problems) == 4, problems
    epoch, terms, width, trace = problems
    assert epoch == ("projection 'p': plasticity field 't_epoch' = 8 steps exceeds Loihi 1's longest learning epoch "
                     "(learning.max_epoch = 4 steps); use t_epoch <= 4")
    assert "rule dw has 2 product terms" in terms and "learning.max_product_terms = 1" in terms
    assert width.startswith("projection 'p': plasticity rule dt has a product 32 bits wide") and "int32" in width
    assert "uses trace x1" in trace and "learning.pre_traces = 0" in trace
    assert "plasticity" not in statuses_of(statuses, "projection 'p'")  # not claimed native when it does not fit


def test_probability_program_must_leave_y1_alone(l2):
    prog = PlasticityProgram(dw="x0*y1", post_factor="probability", y1=Trace(10, 2))
    _, problems = lower_plasticity(two_layer(prog, StochasticBinary()), l2)
    (line,) = problems
    assert line.startswith("projection 'p': plasticity field 'y1' = Trace(impulse=10, tau=2) would be ignored")


def test_compile_lists_target_and_lowering_problems_together():
    with pytest.raises(CompileError) as info:
        compile_network(mixed_network(), "loihi1")
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert problems[0].startswith("population 'h': StochasticBinary neurons cannot run on Loihi 1")
    assert problems[1].startswith("projection 'rel': release_prob=0.5")
    assert problems[2].startswith("projection 'gibbs': plasticity post_factor 'probability'")
    assert problems[3].startswith("projection 'rew': plasticity reward population 'r'")
    compiled, report = compile_network(mixed_network(), "loihi1", allow_emulated=True)
    assert {r.name: r.status for r in report.plasticity.projections} == {"gibbs": EMULATED, "stdp": NATIVE, "rew": EMULATED}
    assert compiled.features == report.features


# ------------------------------------------------------------------ quantization


def test_stochastic_binary_noise_width(l2):
    # T = 0.5: S = 2**16 / T = 2**17 (temperature unit), N = 4 T S = 2**18
    q = quantize(two_layer(None, StochasticBinary(temperature=0.5), weights=np.full((3, 4), 0.25)), l2)
    pop, row = q.population("dst"), q.report.population("dst")
    assert pop.param("noise_width") == 2**18 and dict(row.extra)["noise_width"] == 2**18
    # strong weights bind S instead: excitatory 8-bit k <= 255 at weight_exp 7: S <= 255 * 2**13 / 100 = 20889.6
    # -> N = round(4 * 0.5 * 20889.6) = 41779
    q = quantize(two_layer(None, StochasticBinary(temperature=0.5), weights=np.full((3, 4), 100.0)), l2)
    assert q.population("dst").scale == pytest.approx(20889.6)
    assert q.population("dst").param("noise_width") == 41779


def test_compiled_noise_width_gives_the_documented_activation(l2):
    # P(spike) = clip(1/2 + h / (4T), 0, 1), the slope 1/(4T) of sigmoid(h / T) at 0, measured on 40000 neurons
    temperature = 0.5
    pop = quantize(two_layer(None, StochasticBinary(temperature=temperature)), l2).population("dst")
    n = pop.param("noise_width")
    for k, h in enumerate((-0.6, -0.25, 0.0, 0.25, 0.6, 1.5)):
        x = np.full(40000, int(round(pop.scale * h)))
        rate = stochastic_binary_spikes(x, n, seed=11, pop_index=2, row=k).mean()
        expected = min(max(0.5 + h / (4 * temperature), 0.0), 1.0)
        assert abs(rate - expected) < 5 * math.sqrt(0.25 / 40000) + 1e-12, (h, rate, expected)


def test_plastic_projection_uses_8_bit_weights_and_nonnegative_weight_exp(l2):
    q = quantize(two_layer(STDP, weights=np.full((3, 4), 0.01)), l2)
    proj, row = q.projection("p"), q.report.projection("p")
    assert proj.num_weight_bits == 8 and proj.weight_exp >= 0 and proj.sign_mode == SIGN_EXCITATORY
    # the report's unit is what one integer step W = 1 adds to u, in IR units
    per_unit = q.population("dst").scale * 1.0
    assert row.weight_unit == effective_weights(np.array([1]), proj.weight_exp)[0] / per_unit
    assert not row.weight_unit_requested
    with pytest.raises(CompileError, match="num_weight_bits of a plastic projection is 8"):
        quantize(two_layer(STDP), l2, weight_bits={"p": 4})


def unit_program(unit):
    return PlasticityProgram(dw="2^-2*x0*y1 - 2^-2*y0*x1", x1=Trace(16, 8), y1=Trace(16, 8), weight_unit=unit)


def test_weight_unit_is_exact(l2):
    # LIF v_th = 10 mV, dt = 1: scale limit 2**20 / 10 = 104857.6 (threshold headroom).
    # weight_unit 0.01 mV/ms: S dt 0.01 = 2**(weight_exp + 6) -> largest weight_exp with S <= 104857.6 is 4:
    # S = 2**10 / 0.01 = 102400.
    rng = np.random.default_rng(5)
    k = rng.integers(0, 256, (6, 7))
    k[0, 0] = 255
    net = two_layer(unit_program(0.01), n_pre=7, n_post=6, weights=k * 0.01)
    q = quantize(net, l2)
    proj, pop, row = q.projection("p"), q.population("dst"), q.report.projection("p")
    assert pop.scale == pytest.approx(102400.0) and proj.weight_exp == 4
    assert "weight unit of projection 'p' (weight_exp = 4)" in q.report.population("dst").scale_limited_by
    assert proj.sign_mode == SIGN_EXCITATORY
    np.testing.assert_array_equal(proj.dense_matrix()[k != 0], k[k != 0])  # multiples of the unit -> exact integers
    assert row.weight_unit == 0.01 and row.weight_unit_requested and row.n_clipped == 0
    # one integer step adds weight_unit * S dt integer units to u
    assert effective_weights(np.array([1]), proj.weight_exp)[0] == pytest.approx(0.01 * pop.scale, rel=1e-12)


def test_weight_unit_in_mixed_sign_mode(l2):
    # mixed 8-bit weights sit on Lava's grid of 2 (truncate_weights drops the lowest bit): even multiples are
    # exact, odd ones round to the nearest even multiple (halves away from zero) and the error is reported
    # unit 0.125: S = 2**(weight_exp + 6) / 0.125 <= 104857.6 -> weight_exp = 7 (the maximum), S = 2**16
    w = np.array([[4 * 0.125, -6 * 0.125, 3 * 0.125]])
    q = quantize(two_layer(unit_program(0.125), n_pre=3, n_post=1, weights=w), l2)
    proj = q.projection("p")
    assert proj.sign_mode == SIGN_MIXED and proj.weight_exp == 7 and q.population("dst").scale == 2**16
    assert proj.dense_matrix().tolist() == [[4, -6, 4]]
    row = q.report.projection("p")
    assert row.weight_step == 0.25 and row.weight_unit == 0.125 and row.max_abs_error == pytest.approx(0.125)


def test_weight_units_of_two_projections_into_one_population(l2):
    def net(unit_a, unit_b):
        b = NetworkBuilder("two")
        b.input("a", 2, PoissonInput([10.0]))
        b.input("b", 2, PoissonInput([10.0]))
        b.population("dst", 2, LIF())
        b.connect("a", "dst", 0.5, plasticity=unit_program(unit_a), name="pa")
        b.connect("b", "dst", 0.5, plasticity=unit_program(unit_b), name="pb")
        return b.build()

    # 0.125 and 0.25: one scale, exponents one apart; the largest S puts 'pb' at weight_exp 7: S = 2**13 / 0.25
    q = quantize(net(0.125, 0.25), l2)
    assert (q.projection("pa").weight_exp, q.projection("pb").weight_exp) == (6, 7)
    assert q.population("dst").scale == 2**15
    with pytest.raises(CompileError) as info:
        quantize(net(0.1, 0.3), l2)
    (line,) = info.value.problems
    assert line.startswith("population 'dst': plastic projections 'pa' (weight_unit=0.1), 'pb' (weight_unit=0.3) ask for incompatible weight units")


def test_weight_unit_problems(l2):
    # too fine: S = 2**6 / 1e-6 = 6.4e7 > 104857.6 even at weight_exp 0; the smallest unit is 64 / 104857.6
    with pytest.raises(CompileError) as info:
        quantize(two_layer(unit_program(1e-6)), l2)
    (line,) = info.value.problems
    assert line.startswith("projection 'p': weight_unit=1e-06 needs a scale of at least 6.4e+07")
    assert line.endswith(f"use weight_unit >= {64 / 104857.6:.4g}")
    # in range of the scale, but 40 / 0.125 = 320 units > 255 (excitatory 8-bit)
    with pytest.raises(CompileError) as info:
        quantize(two_layer(unit_program(0.125), weights=np.full((3, 4), 40.0)), l2)
    (line,) = info.value.problems
    assert line.startswith("projection 'p': weight 40 is 320 weight units (weight_unit = 0.125), outside the learning "
                           "engine's excitatory range [0, 255] units")


def test_release_projection_quantizes_as_usual(l2):
    reliable = quantize(two_layer(None, weights=np.linspace(0.1, 1.2, 12).reshape(3, 4)), l2)
    lossy = quantize(two_layer(None, weights=np.linspace(0.1, 1.2, 12).reshape(3, 4), release_prob=0.5), l2)
    a, b = reliable.projection("p"), lossy.projection("p")
    np.testing.assert_array_equal(a.weights, b.weights)
    assert (a.weight_exp, a.sign_mode, a.release_prob, b.release_prob) == (b.weight_exp, b.sign_mode, 1.0, 0.5)


# ------------------------------------------------------------------ synaptic memory


def test_learning_synapses_memory_and_axon_slots():
    # src (10) -> dst (20), dense, delay 1, one block of 20 neurons on loihi1; each of the 10 input axons
    # stores 20 synapses in one group (<= 64):
    #   static: 8 weight bits: 20*8 + 10 header = 170 bits -> 3 64-bit words = 192 bits; 10 axons -> 1920 bits
    #   plastic with tag t (dt rule): 9 learnable weight bits + 9 tag bits = 18: 20*18 + 10 = 370 -> 6 words = 384
    #     bits; 10 axons -> 3840 bits, and 2 input-axon slots per presynaptic neuron -> 20
    def net(program):
        b = NetworkBuilder("mem")
        b.input("src", 10, PoissonInput([10.0]))
        b.population("dst", 20, LIF())
        b.connect("src", "dst", 0.5, plasticity=program, name="p")
        return b.build()

    _, static = compile_network(net(None), "loihi1")
    _, plastic = compile_network(net(STDP_TAG), "loihi1")
    (sb,), (pb,) = static.partition.blocks, plastic.partition.blocks
    assert (sb.synapse_bits, sb.input_axons) == (1920, 10)
    assert (pb.synapse_bits, pb.input_axons) == (3840, 20)
    (row,) = plastic.plasticity.projections
    assert (row.weight_bits, row.tag_bits, row.delay_bits, row.index_bits, row.bits_per_synapse, row.axon_slots) == (9, 9, 0, 0, 18, 2)


# ------------------------------------------------------------------ report


def test_report_plasticity_section(tmp_path, capsys):
    compiled, report = compile_network(mixed_network(), "loihi2")
    section = report.plasticity
    rows = {r.name: r for r in section.projections}
    assert list(rows) == ["gibbs", "stdp", "rew"]
    gibbs, stdp, rew = rows["gibbs"], rows["stdp"], rows["rew"]
    assert gibbs.rules == (("dw", "2^-7*x0*y1 - 2^-1*u2*w"),) and gibbs.decimation == 2 and gibbs.t_epoch == 1
    assert gibbs.status == MICROCODE and gibbs.weight_unit == 0.125 and gibbs.weight_unit_requested
    assert gibbs.post_factor == "probability" and gibbs.bits_per_synapse == 9 and gibbs.sign_mode == "excitatory"
    assert stdp.rules == (("dw", STDP_TAG.dw), ("dt", STDP_TAG.dt)) and stdp.t_epoch == 2 and stdp.decimation is None
    assert stdp.status == NATIVE and stdp.bits_per_synapse == 18 and not stdp.weight_unit_requested
    p, o = compiled.projection("stdp"), compiled.population("o")
    assert stdp.weight_unit == effective_weights(np.array([1]), p.weight_exp)[0] / (o.scale * compiled.dt)
    assert rew.status == MICROCODE and rew.reward == "r" and rew.sign_mode == "mixed"
    (sb,) = section.stochastic_populations
    assert sb.name == "h" and sb.noise_width == compiled.population("h").param("noise_width")
    assert sb.activation == "clip(1/2 + (h + bias) / 2, 0, 1)"  # 4 T = 2
    assert sb.max_gap_to_sigmoid == pytest.approx(1.0 - 1.0 / (1.0 + math.exp(-2.0)), abs=1e-4)  # at (h + bias) / T = 2
    assert sb.status == MICROCODE
    (rel,) = section.releases
    assert (rel.name, rel.release_prob, rel.realised, rel.status) == ("rel", 0.5, 0.5, MICROCODE)
    assert "chip's own generators" in section.random_numbers

    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["plasticity"]["projections"][0]["rules"] == {"dw": "2^-7*x0*y1 - 2^-1*u2*w"}
    assert d["plasticity"]["projections"][0]["weight_unit"] == 0.125
    assert d["plasticity"]["stochastic_populations"][0]["noise_width"] == sb.noise_width
    assert d["quantization"]["projections"][0]["weight_unit"] == 0.125

    console = Console(record=True, width=260)
    report.print(console)
    text = console.export_text()
    for needle in ("plasticity (learning engine)", "0.125 (requested)", "u2: every 4 epochs", "stochastic neurons",
                   f"noise_width={sb.noise_width}", "stochastic synaptic release"):
        assert needle in text, needle

    save_compiled(compiled, tmp_path / "mix.yrc")  # noise widths, programs with weight_unit/post_factor/reward survive
    assert load_compiled(tmp_path / "mix.yrc") == compiled

    path = tmp_path / "mix.yrg"
    save_network(mixed_network(), path)
    with pytest.raises(SystemExit) as info:
        main(["compile", str(path), "--profile", "loihi2"])
    assert info.value.code == 0
    assert "plasticity (learning engine)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["compile", str(path), "--profile", "loihi1"])
    assert info.value.code == 2 and "StochasticBinary neurons cannot run on Loihi 1" in capsys.readouterr().err


def test_report_without_plasticity_has_an_empty_section(chain_net):
    _, report = compile_network(chain_net, "loihi1")
    assert report.plasticity.empty
    d = report.to_dict()["plasticity"]
    assert d["projections"] == [] and d["stochastic_populations"] == [] and d["releases"] == []

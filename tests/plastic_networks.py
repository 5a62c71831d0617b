"""Hand-built CompiledNetworks with plasticity, stochastic neurons and stochastic release.

Shared by the backend tests (emulator, Lava, Brian2 exact) and the
cross-backend bit-exactness tests. Integers are chosen by hand (no compiler),
so the backends are tested on exactly these values.
"""

from __future__ import annotations

import numpy as np

from yuragi.compiler.compiled import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED, CompiledNetwork, CompiledPopulation, CompiledProjection, CoreBlock
from yuragi.ir import Probe
from yuragi.ir.neurons import PoissonInput
from yuragi.ir.plasticity import PlasticityProgram, Trace

#: Integer noise width of the StochasticBinary populations here (T*S = 2**16, N = 4*T*S).
NOISE_WIDTH = 1 << 18

STDP = PlasticityProgram(
    dw="2^-2*x0*y1 - 2^-2*y0*x1",
    x1=Trace(16.5, 6), y1=Trace(20, 5), t_epoch=1,
)
STDP_EPOCH = PlasticityProgram(
    dw="2^-3*x0*y1 - 3*2^-4*y0*x1 + 2^-6*u1*w",
    x1=Trace(24, 8), y1=Trace(18.25, 10), t_epoch=4,
)
RSTDP = PlasticityProgram(
    dt="2^-1*x0*y1 - 2^-1*y0*x1 - 2^-3*u0*t",
    dw="2^-4*u0*t*y2",
    x1=Trace(20, 6), y1=Trace(20, 6), y2=Trace(60, 4), t_epoch=2, reward="reward",
)
#: The Gibbs-synapse form (docs/plasticity.md): evidence tag t (negated), resample w in {0, 1} every 2**2 epochs.
GIBBS = PlasticityProgram(
    dt="-x0*y0 + 2^-7*x0*y1 - 2^-3*u2*t",
    dw="-u2*w + 2^-1*u2 - 8*2^-7*u2*t*(x2 + 1)",
    t_epoch=1, post_factor="probability",
)


def _lif(name: str, size: int, rng: np.random.Generator, **kw) -> CompiledPopulation:
    base = dict(du=1024, dv=512, vth=1 << 12, refractory=1)
    base.update(kw)
    return CompiledPopulation(name=name, kind="LIF", size=size, v_init=rng.integers(0, 1 << 17, size), **base)


def _sb(name: str, size: int, bias: int = 0) -> CompiledPopulation:
    return CompiledPopulation(name=name, kind="StochasticBinary", size=size, du=4095, bias_mant=bias, bias_exp=0, params=(("noise_width", NOISE_WIDTH),))


def _all_to_all(n_pre: int, n_post: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    mask = rng.random((n_post, n_pre)) < p
    post, pre = np.nonzero(mask)
    return pre, post


def _projection(name: str, pre: str, post: str, sizes: dict, rng: np.random.Generator, p: float, w_lo: int, w_hi: int, **kw) -> CompiledProjection:
    pre_idx, post_idx = _all_to_all(sizes[pre], sizes[post], p, rng)
    weights = rng.integers(w_lo, w_hi + 1, size=pre_idx.size)
    sign = SIGN_EXCITATORY if w_lo >= 0 else SIGN_INHIBITORY if w_hi <= 0 else SIGN_MIXED
    if sign == SIGN_MIXED:  # Lava's 8-bit mixed-sign grid drops the lowest bit
        weights = (weights >> 1) << 1
    delays = kw.pop("delays", 1)
    dense = kw.pop("dense", True)
    return CompiledProjection(name, pre, post, sizes[pre], sizes[post], pre_idx, post_idx, weights, delays,
                              num_weight_bits=8, sign_mode=sign, dense=dense, **kw)


def _network(name: str, seed: int, pops: list[CompiledPopulation], projs: list[CompiledProjection], probes: list[Probe]) -> CompiledNetwork:
    blocks, core = [], 0
    for pop in pops:
        if not pop.is_input:
            blocks.append(CoreBlock(pop.name, 0, pop.size, core=core, chip=0, tile=(core // 4, 0)))
            core += 1
    return CompiledNetwork(name, "loihi2", 1.0, seed, tuple(pops), tuple(projs), blocks=tuple(blocks), probes=tuple(probes))


def _learning_probes(proj: str, targets: tuple[str, ...]) -> list[Probe]:
    return [Probe(proj, v) for v in targets]


def stdp_network(seed: int, program: PlasticityProgram = STDP) -> CompiledNetwork:
    """Poisson inputs -> LIF layer through a plastic (STDP) projection, plus a static recurrent one."""
    rng = np.random.default_rng(seed)
    pops = [
        CompiledPopulation(name="in", kind="PoissonInput", size=16, source=PoissonInput(rate_hz=[80.0])),
        _lif("out", 8, rng),
    ]
    sizes = {p.name: p.size for p in pops}
    projs = [
        _projection("plastic", "in", "out", sizes, rng, 0.7, 20, 120, weight_exp=2, plasticity=program),
        _projection("rec", "out", "out", sizes, rng, 0.3, -60, -5, weight_exp=2, dense=False, delays=2),
    ]
    probes = [Probe("in", "spikes"), Probe("out", "spikes"), Probe("out", "v")] + _learning_probes("plastic", ("w", "x1", "y1"))
    return _network(f"stdp_{seed}", seed, pops, projs, probes)


def rstdp_network(seed: int) -> CompiledNetwork:
    """STDP eligibility in tag t, weight change gated by a reward population's trace y2 (3-factor)."""
    rng = np.random.default_rng(seed)
    pops = [
        CompiledPopulation(name="in", kind="PoissonInput", size=12, source=PoissonInput(rate_hz=[100.0])),
        CompiledPopulation(name="reward", kind="PoissonInput", size=1, source=PoissonInput(rate_hz=[50.0])),
        _lif("out", 6, rng),
    ]
    sizes = {p.name: p.size for p in pops}
    projs = [_projection("plastic", "in", "out", sizes, rng, 0.8, -80, 120, weight_exp=2, plasticity=RSTDP)]
    probes = [Probe("out", "spikes")] + _learning_probes("plastic", ("w", "t", "x1", "y1", "y2"))
    return _network(f"rstdp_{seed}", seed, pops, projs, probes)


def gibbs_network(seed: int) -> CompiledNetwork:
    """Poisson pixels -> StochasticBinary layer: binary Gibbs synapses (w in {0,1}) plus the fixed -g projection."""
    rng = np.random.default_rng(seed)
    pops = [
        CompiledPopulation(name="x", kind="PoissonInput", size=20, source=PoissonInput(rate_hz=[300.0])),
        _sb("h", 10, bias=2000),
    ]
    sizes = {p.name: p.size for p in pops}
    plastic = _projection("contacts", "x", "h", sizes, rng, 1.0, 0, 1, weight_exp=7, plasticity=GIBBS)
    base = CompiledProjection("offset", "x", "h", 20, 10, plastic.pre_idx, plastic.post_idx, -np.ones(plastic.nnz, dtype=np.int64), 1,
                              num_weight_bits=8, weight_exp=6, sign_mode=SIGN_INHIBITORY, dense=True)
    probes = [Probe("h", "spikes"), Probe("h", "u")] + _learning_probes("contacts", ("w", "t", "y1"))
    return _network(f"gibbs_{seed}", seed, pops, [plastic, base], probes)


def stochastic_network(seed: int) -> CompiledNetwork:
    """StochasticBinary + LIF populations, projections with release_prob < 1 and delays up to 3."""
    rng = np.random.default_rng(seed)
    pops = [
        CompiledPopulation(name="in", kind="PoissonInput", size=10, source=PoissonInput(rate_hz=[150.0])),
        _sb("sb", 12, bias=-3000),
        _lif("lif", 9, rng),
    ]
    sizes = {p.name: p.size for p in pops}
    projs = [
        _projection("in->sb", "in", "sb", sizes, rng, 0.6, 10, 60, weight_exp=7, release_prob=0.6),
        _projection("sb->lif", "sb", "lif", sizes, rng, 0.5, 30, 150, weight_exp=3, release_prob=0.35, dense=False),
        _projection("lif->sb", "lif", "sb", sizes, rng, 0.4, -120, 90, weight_exp=6),
    ]
    # per-synapse delays on the sparse release projection
    sb_lif = projs[1]
    projs[1] = CompiledProjection(sb_lif.name, sb_lif.pre, sb_lif.post, sb_lif.n_pre, sb_lif.n_post, sb_lif.pre_idx, sb_lif.post_idx,
                                  sb_lif.weights, rng.integers(1, 4, sb_lif.nnz), num_weight_bits=8, weight_exp=3,
                                  sign_mode=sb_lif.sign_mode, dense=False, release_prob=0.35)
    probes = [Probe("sb", "spikes"), Probe("sb", "u"), Probe("lif", "spikes"), Probe("lif", "v")]
    return _network(f"stochastic_{seed}", seed, pops, projs, probes)


def suite(seed: int) -> dict[str, CompiledNetwork]:
    """Every network above for one seed."""
    return {
        "stdp": stdp_network(seed),
        "stdp_epoch": stdp_network(seed, STDP_EPOCH),
        "rstdp": rstdp_network(seed),
        "gibbs": gibbs_network(seed),
        "stochastic": stochastic_network(seed),
    }

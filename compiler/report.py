"""CompileReport: what a compiled program costs and what it lost.

Cores and chips used against the resource lower bound, utilisation of every
per-core resource, quantization errors, spike traffic of the placement
against the naive one, which features run natively, need Loihi 2
microcode, or are emulated only, and the plasticity section
(:class:`PlasticityReport`): per plastic projection its rules, epoch,
decimation, bits per synapse, status and weight unit; per StochasticBinary
population its noise width and activation function; per projection with
``release_prob < 1`` its release probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ..hw_profiles import HardwareProfile
from ..rng import probability_threshold
from .compiled import EMULATED, MICROCODE, NATIVE, FeatureStatus
from .lower import projection_status
from .partition import Partition, synapse_format
from .place import Placement
from .quantize import QuantizationReport, QuantizedNetwork

_STYLE = {NATIVE: "green", MICROCODE: "yellow", EMULATED: "red"}


def _styled(status: str) -> str:
    style = _STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def _status_of(features: tuple[FeatureStatus, ...], element: str, prefix: str) -> str:
    found = [f.status for f in features if f.element == element and f.feature.startswith(prefix)]
    return found[0] if found else ""


def _worst(statuses: Any) -> str:
    """The worst of some statuses (native < needs Loihi 2 microcode < emulated only); "" for none."""
    found = [s for s in statuses if s]
    order = (NATIVE, MICROCODE, EMULATED)
    return max(found, key=lambda st: order.index(st) if st in order else len(order)) if found else ""


# ---------------------------------------------------------------- plasticity


@dataclass(frozen=True)
class PlasticProjectionRow:
    """One plastic projection as compiled.

    Parameters
    ----------
    name, pre, post : str
        Projection and its populations.
    rules : tuple of (str, str)
        ``(target, rule text)`` for dw, dd, dt as given.
    t_epoch : int
        Learning epoch, steps.
    decimation : int or None
        ``k`` of the program's ``u<k>``: those terms run every ``2**k`` epochs.
    weight_bits, delay_bits, tag_bits, index_bits, bits_per_synapse : int
        Synaptic memory per synapse (bits): the stored fields and their sum
        (index bits only for sparse storage), as the partition counts them.
    axon_slots : int
        Input-axon slots per presynaptic neuron (2 for learning synapses).
    sign_mode : str
        Range of the learned weight: excitatory [0, 255], inhibitory
        [-255, 0], mixed [-256, 255] (integer steps).
    weight_unit : float or None
        IR weight of one integer step of the learned weight.
    weight_unit_requested : bool
        The program set ``weight_unit`` (True) or the compiler chose it.
    post_factor, reward : str or None
        The program's 3-factor options.
    pre_timing : str
        ``'emission'`` or ``'arrival'`` (when the engine sees a presynaptic spike).
    status : str
        Worst status of the projection's features (native / needs Loihi 2
        microcode / emulated only).
    """

    name: str
    pre: str
    post: str
    rules: tuple[tuple[str, str], ...]
    t_epoch: int
    decimation: int | None
    weight_bits: int
    delay_bits: int
    tag_bits: int
    index_bits: int
    bits_per_synapse: int
    axon_slots: int
    sign_mode: str
    weight_unit: float | None
    weight_unit_requested: bool
    post_factor: str | None
    reward: str | None
    status: str
    pre_timing: str = "emission"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["rules"] = {target: text for target, text in self.rules}
        return out


@dataclass(frozen=True)
class StochasticPopulationRow:
    """One StochasticBinary population: its noise width and activation function.

    ``activation`` is ``P(spike)`` as a function of the input ``h`` (the
    compiled neuron: ``clip((x + N//2) / N, 0, 1)`` with ``x = S (h + bias)``);
    ``max_gap_to_sigmoid`` is the largest ``|P - sigmoid((h + bias) / T)|``
    over ``h`` (0.119 for the exact slope match: at ``(h + bias) / T = 2``);
    ``clamp`` the input population whose spikes replace the samples (None: free).
    """

    name: str
    temperature: float
    scale: float
    noise_width: int
    activation: str
    max_gap_to_sigmoid: float
    status: str
    clamp: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ReleaseRow:
    """One projection with ``release_prob < 1``; ``realised`` is ``floor(p 2**32) / 2**32`` (yuragi/rng.py)."""

    name: str
    release_prob: float
    realised: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class PlasticityReport:
    """The plasticity and stochasticity section of the compile report."""

    projections: tuple[PlasticProjectionRow, ...] = ()
    stochastic_populations: tuple[StochasticPopulationRow, ...] = ()
    releases: tuple[ReleaseRow, ...] = ()
    random_numbers: str = ""

    @property
    def empty(self) -> bool:
        """True when the network has no plastic projection, stochastic neuron or release."""
        return not (self.projections or self.stochastic_populations or self.releases)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "projections": [r.to_dict() for r in self.projections],
            "stochastic_populations": [r.to_dict() for r in self.stochastic_populations],
            "releases": [r.to_dict() for r in self.releases],
            "random_numbers": self.random_numbers,
        }

    def print(self, console: Console) -> None:
        """Rich tables (nothing when :attr:`empty`)."""
        if self.projections:
            t = Table(title="plasticity (learning engine)")
            for col in ("projection", "rules", "t_epoch", "decimation", "bits/synapse", "weights", "weight unit", "status"):
                t.add_column(col, justify="right" if col in ("t_epoch", "bits/synapse") else "left")
            for r in self.projections:
                rules = "\n".join(f"{target} = {text}" for target, text in r.rules)
                extra = ["y1 = P(post spike)"] if r.post_factor == "probability" else []
                extra += [f"y2 <- spikes of '{r.reward}'"] if r.reward else []
                extra += ["pre spikes at arrival"] if r.pre_timing == "arrival" else []
                if extra:
                    rules += "\n(" + "; ".join(extra) + ")"
                decimation = f"u{r.decimation}: every {2 ** r.decimation} epochs" if r.decimation is not None else "-"
                bits = f"{r.bits_per_synapse} (w {r.weight_bits} + tags {r.tag_bits} + delay {r.delay_bits}" + (
                    f" + index {r.index_bits})" if r.index_bits else ")") + f", {r.axon_slots} axon slots"
                unit = "-" if r.weight_unit is None else f"{r.weight_unit:.4g}" + (" (requested)" if r.weight_unit_requested else " (chosen)")
                t.add_row(r.name, rules, str(r.t_epoch), decimation, bits, r.sign_mode, unit, _styled(r.status))
            console.print(t)
        if self.stochastic_populations:
            t = Table(title="stochastic neurons (StochasticBinary)")
            for col in ("population", "T", "noise width N", "activation P(spike | h)", "max |P - sigmoid|", "status"):
                t.add_column(col)
            for r in self.stochastic_populations:
                name = r.name + (f"\n(clamped to '{r.clamp}')" if r.clamp else "")
                t.add_row(name, f"{r.temperature:g}", str(r.noise_width), r.activation, f"{r.max_gap_to_sigmoid:.3f}", _styled(r.status))
            console.print(t)
        if self.releases:
            t = Table(title="stochastic synaptic release")
            for col in ("projection", "release_prob", "realised", "status"):
                t.add_column(col)
            for r in self.releases:
                t.add_row(r.name, f"{r.release_prob:g}", f"{r.realised:.10g}", _styled(r.status))
            console.print(t)
        if not self.empty and self.random_numbers:
            console.print(self.random_numbers)


def _activation_gap(temperature: float, scale: float, noise_width: int) -> float:
    """Largest ``|clip((x + N//2)/N, 0, 1) - sigmoid(z)|`` over ``z = (h + bias)/T`` in [-16, 16] (``x = S T z``)."""
    z = np.linspace(-16.0, 16.0, 64001)
    x = scale * temperature * z
    p = np.clip((x + (noise_width >> 1)) / noise_width, 0.0, 1.0)
    return float(np.max(np.abs(p - 1.0 / (1.0 + np.exp(-z)))))


RANDOM_NUMBERS_NOTE = (
    "random numbers (stochastic neurons, release, learning's stochastic rounding): yuragi's counter-based RNG "
    "(yuragi/rng.py, one draw per neuron / synapse / step) in every simulating backend, bit-exact across them; "
    "on Loihi hardware the chip's own generators, so hardware runs match statistically, not spike for spike"
)


def plasticity_report(q: QuantizedNetwork, part: Partition, profile: HardwareProfile, features: tuple[FeatureStatus, ...]) -> PlasticityReport:
    """Build the plasticity section from the quantized network, its partition and the feature statuses."""
    plastic = []
    for proj, row in zip(q.projections, q.report.projections):
        prog = proj.plasticity
        if prog is None:
            continue
        fmt = synapse_format(proj, profile)
        index = 0 if fmt.dense else int(part.index_bits.get(proj.post, 0))
        decimation = next((r.decimate_exponent for r in prog.rules.values() if r.decimate_exponent is not None), None)
        plastic.append(PlasticProjectionRow(
            name=proj.name, pre=proj.pre, post=proj.post,
            rules=tuple((target, rule.text) for target, rule in prog.rules.items()),
            t_epoch=int(prog.t_epoch), decimation=decimation,
            weight_bits=fmt.weight_bits, delay_bits=fmt.delay_bits, tag_bits=fmt.tag_bits, index_bits=index,
            bits_per_synapse=fmt.bits_per_synapse(index), axon_slots=fmt.axon_slots,
            sign_mode=row.sign_mode, weight_unit=row.weight_unit, weight_unit_requested=row.weight_unit_requested,
            post_factor=prog.post_factor, reward=prog.reward,
            status=projection_status(features, proj.name) or NATIVE, pre_timing=prog.pre_timing,
        ))
    stochastic = []
    for pop, row in zip((p for p in q.populations if not p.is_input), q.report.populations):
        if pop.kind != "StochasticBinary":
            continue
        extra = dict(row.extra)
        temperature = extra["temperature_int"] / pop.scale
        n = pop.param("noise_width")
        slope = 4.0 * temperature * pop.scale / n  # 1 up to the rounding of N
        text = f"clip(1/2 + (h + bias) / {4.0 * temperature / slope:.4g}, 0, 1)"
        stochastic.append(StochasticPopulationRow(
            name=pop.name, temperature=temperature, scale=pop.scale, noise_width=n, activation=text,
            max_gap_to_sigmoid=_activation_gap(temperature, pop.scale, n),
            status=_worst(_status_of(features, f"population '{pop.name}'", prefix)
                          for prefix in ("neuron model StochasticBinary", "clamped StochasticBinary")),
            clamp=pop.clamp,
        ))
    releases = [
        ReleaseRow(proj.name, float(proj.release_prob), float(probability_threshold(proj.release_prob)) / 2.0**32,
                   _status_of(features, f"projection '{proj.name}'", "stochastic synaptic release"))
        for proj in q.projections if proj.release_prob < 1.0
    ]
    return PlasticityReport(tuple(plastic), tuple(stochastic), tuple(releases), RANDOM_NUMBERS_NOTE)


@dataclass(frozen=True, eq=False)
class CompileReport:
    """Everything the compiler measured about one compilation."""

    network: str
    profile: str
    partition: Partition
    placement: Placement
    quantization: QuantizationReport
    features: tuple[FeatureStatus, ...]
    seconds: dict[str, float]
    plasticity: PlasticityReport = field(default_factory=PlasticityReport)

    @property
    def cores_used(self) -> int:
        """Neuro-cores used."""
        return self.placement.n_cores

    @property
    def lower_bound_cores(self) -> int:
        """No valid partition uses fewer cores than this."""
        return self.partition.lower_bound_cores

    def utilisation(self) -> list[dict[str, float]]:
        """Per core: used / limit for every additive resource (0..1)."""
        limits = self.partition.limits
        return [{r: (u[r] / limits[r] if limits[r] else 0.0) for r in limits} for u in self.partition.core_usage()]

    def features_by_status(self) -> dict[str, list[FeatureStatus]]:
        """Features grouped as native / needs microcode / emulated only."""
        out: dict[str, list[FeatureStatus]] = {NATIVE: [], MICROCODE: [], EMULATED: []}
        for f in self.features:
            out.setdefault(f.status, []).append(f)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe report (``report.json``)."""
        return {
            "network": self.network,
            "profile": self.profile,
            "cores_used": self.cores_used,
            "chips_used": self.placement.n_chips,
            "lower_bound_cores": self.lower_bound_cores,
            "cores_over_lower_bound": self.cores_used / self.lower_bound_cores if self.lower_bound_cores else 1.0,
            "lower_bounds_by_resource": self.partition.lower_bounds(),
            "limits": dict(self.partition.limits),
            "core_usage": self.partition.core_usage(),
            "blocks": [b.to_dict() for b in self.partition.blocks],
            "placement": {
                "method": self.placement.kept,
                "traffic_per_step": self.placement.traffic.to_dict(),
                "naive_traffic_per_step": self.placement.naive.to_dict(),
                "placed_over_naive": self.placement.ratios(),
            },
            "quantization": self.quantization.to_dict(),
            "features": [f.__dict__ for f in self.features],
            "plasticity": self.plasticity.to_dict(),
            "seconds": self.seconds,
        }

    # ------------------------------------------------------------ display
    def print(self, console: Console) -> None:
        """Rich summary: resources, quantization errors, features."""
        t = Table(title=f"compiled '{self.network}' for {self.profile}")
        t.add_column("quantity")
        t.add_column("value", justify="right")
        t.add_row("cores used", str(self.cores_used))
        t.add_row("lower bound (cores)", str(self.lower_bound_cores))
        t.add_row("chips used", str(self.placement.n_chips))
        ratios = self.placement.ratios()
        t.add_row("cross-core traffic placed/naive", f"{ratios['across_cores']:.3f}")
        t.add_row("cross-chip traffic placed/naive", f"{ratios['across_chips']:.3f}")
        t.add_row("compile time (s)", f"{sum(self.seconds.values()):.2f}")
        console.print(t)

        u = Table(title="peak utilisation per resource (over cores)")
        u.add_column("resource")
        u.add_column("limit per core", justify="right")
        u.add_column("max used", justify="right")
        u.add_column("mean used", justify="right")
        u.add_column("cores alone (lower bound)", justify="right")
        util = self.utilisation()
        bounds = self.partition.lower_bounds()
        for r, limit in self.partition.limits.items():
            vals = [c[r] for c in util] or [0.0]
            u.add_row(r, str(limit), f"{max(vals):.1%}", f"{sum(vals) / len(vals):.1%}", str(bounds.get(r, "")))
        console.print(u)

        q = Table(title="quantization (relative errors)")
        for col in ("projection", "bits", "exp", "rms err", "max err", "clipped", "zeroed"):
            q.add_column(col, justify="right" if col not in ("projection",) else "left")
        for row in self.quantization.projections:
            q.add_row(row.name, str(row.num_weight_bits), str(row.weight_exp), f"{row.rms_rel_error:.2%}", f"{row.max_abs_rel_error:.2%}", str(row.n_clipped), str(row.n_zeroed))
        console.print(q)
        p = Table(title="neuron parameters (relative errors)")
        for col in ("population", "scale /mV", "du err", "dv err", "vth err", "bias err", "integer parameters"):
            p.add_column(col, justify="right" if col not in ("population", "integer parameters") else "left")
        for row in self.quantization.populations:
            extra = ", ".join(f"{k}={v:.6g}" for k, v in row.extra)
            p.add_row(row.name, f"{row.scale:.4g}", f"{row.du_error:.1e}", f"{row.dv_error:.1e}", f"{row.vth_error:.1e}", f"{row.bias_error:.1e}", extra)
        console.print(p)

        f = Table(title="features")
        for col in ("element", "feature", "status", "note"):
            f.add_column(col)
        for feat in self.features:
            f.add_row(feat.element, feat.feature, _styled(feat.status), feat.note)
        console.print(f)
        self.plasticity.print(console)

    def plot(self, path: str | Path) -> Path:
        """PNG: heat map of utilisation (% of the per-core limit) of every resource on every core."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        util = self.utilisation()
        resources = list(self.partition.limits)
        grid = np.array([[100.0 * c[r] for c in util] for r in resources]) if util else np.zeros((len(resources), 1))
        fig, ax = plt.subplots(figsize=(min(4.0 + 0.25 * grid.shape[1], 18.0), 1.2 + 0.45 * len(resources)))
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0.0, vmax=100.0, interpolation="nearest")
        ax.set_yticks(range(len(resources)), resources)
        ax.set_xlabel("core")
        ax.set_title(f"{self.network} on {self.profile}: {self.cores_used} cores (lower bound {self.lower_bound_cores})")
        fig.colorbar(image, ax=ax, label="% of per-core limit")
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path

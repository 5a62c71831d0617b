"""CompileReport: what a compiled program costs and what it lost.

Cores and chips used against the resource lower bound, utilisation of every
per-core resource, quantization errors, spike traffic of the placement
against the naive one, and which features run natively, need Loihi 2
microcode, or are emulated only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .compiled import EMULATED, MICROCODE, NATIVE, FeatureStatus
from .partition import Partition
from .place import Placement
from .quantize import QuantizationReport


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
        for col in ("population", "scale /mV", "du err", "dv err", "vth err", "bias err"):
            p.add_column(col, justify="right" if col != "population" else "left")
        for row in self.quantization.populations:
            p.add_row(row.name, f"{row.scale:.4g}", f"{row.du_error:.1e}", f"{row.dv_error:.1e}", f"{row.vth_error:.1e}", f"{row.bias_error:.1e}")
        console.print(p)

        f = Table(title="features")
        for col in ("element", "feature", "status", "note"):
            f.add_column(col)
        for feat in self.features:
            style = {NATIVE: "green", MICROCODE: "yellow", EMULATED: "red"}.get(feat.status, "")
            f.add_row(feat.element, feat.feature, f"[{style}]{feat.status}[/{style}]" if style else feat.status, feat.note)
        console.print(f)

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

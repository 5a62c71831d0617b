"""PNG plots of the synfire analyses (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .analysis import LayerMap, PacketStats
from .params import SynfireParams


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _plt().close(fig)
    return path


def chain_raster(result: Any, path: str | Path, params: SynfireParams | None = None, packets: PacketStats | None = None, title: str | None = None, population: str = "chain") -> Path:
    """Raster of the chain (neuron index vs time), groups shaded alternately, packet windows marked."""
    from .analysis import HALF_WINDOW_MS

    p = params or SynfireParams()
    plt = _plt()
    ev = result.spikes[population]
    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    for k in range(p.n_groups):
        if k % 2:
            ax.axhspan(k * p.group_size - 0.5, (k + 1) * p.group_size - 0.5, color="0.93", lw=0)
        if packets is not None and np.isfinite(packets.centre[k]):
            c = packets.centre[k]
            ax.plot([c - HALF_WINDOW_MS, c + HALF_WINDOW_MS], [(k + 1) * p.group_size - 2] * 2, color="tab:red", lw=1.0)
    ax.scatter(ev.steps * result.dt, ev.neurons, s=1.0, marker="|", color="k", lw=0.6)
    ax.set_xlim(0, result.steps * result.dt)
    ax.set_ylim(-0.5, p.n_groups * p.group_size - 0.5)
    ax.set_yticks([(k + 0.5) * p.group_size for k in range(p.n_groups)], [str(k + 1) for k in range(p.n_groups)])
    ax.set_ylabel("group")
    ax.set_xlabel("time (ms)")
    if packets is not None:
        sig = f", sigma = {packets.sigma[-1]:.2f} ms" if np.isfinite(packets.sigma[-1]) else ""
        ax.set_title(title or f"{result.backend}: group {p.n_groups} a = {packets.a[-1]}{sig} (red: +-5 ms windows)", fontsize=9)
    elif title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def packet_trajectories(runs: Mapping[str, Sequence[PacketStats]], path: str | Path, title: str = "") -> Path:
    """Per-group (a, sigma) trajectories of several runs in the (sigma, a) plane, one colour per label."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, (label, stats) in enumerate(runs.items()):
        for i, st in enumerate(stats):
            ax.plot(st.sigma, st.a, "-o", ms=2.5, lw=0.8, color=colours[c % len(colours)], alpha=0.7, label=label if i == 0 else None)
    ax.set_xlabel("sigma (ms)")
    ax.set_ylabel("a (spikes)")
    ax.set_xlim(0, 3.5)
    ax.set_ylim(0, 110)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def layer_map_plot(maps: Mapping[str, LayerMap], path: str | Path, title: str = "") -> Path:
    """State-space plot of one or more one-layer maps: arrows (a, sigma) -> (a', sigma') and the separatrix."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 4.2), squeeze=False)
    for ax, (label, m) in zip(axes[0], maps.items()):
        ss, aa = np.meshgrid(m.sigma_in, m.a_in)
        ds = np.nan_to_num(m.sigma_out - ss)
        da = m.a_out - aa
        ax.quiver(ss, aa, ds, da, angles="xy", scale_units="xy", scale=1.0, width=0.004, color="0.3")
        a_f, s_f, inside = m.basin()
        ax.contour(s_f, a_f, inside, levels=[0.5], colors="tab:red", linewidths=1.5)
        ax.contourf(s_f, a_f, inside, levels=[0.5, 1.5], colors=["tab:red"], alpha=0.08)
        ax.set_xlim(m.sigma_in[0] - 0.1, m.sigma_in[-1] + 0.2)
        ax.set_ylim(0, 110)
        ax.set_xlabel("sigma (ms)")
        ax.set_ylabel("a (spikes)")
        ax.set_title(f"{label} ({m.trials} trials/point); red: separatrix", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def survival_plot(curves: Mapping[str, tuple[Sequence[float], Sequence[float], int]], path: str | Path, title: str = "") -> Path:
    """Survival probability to the last group vs gate rate: ``curves[label] = (rates, fractions, n_seeds)``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.8, 4.0))
    for label, (rates, frac, n) in curves.items():
        frac = np.asarray(frac, dtype=np.float64)
        err = np.sqrt(np.clip(frac * (1 - frac), 0, None) / max(n, 1))
        ax.errorbar(rates, frac, yerr=err, marker="o", ms=3.5, capsize=2, lw=1.2, label=f"{label} ({n} seeds)")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("gate rate nu_G (Hz per gate neuron)")
    ax.set_ylabel("P(packet reaches the last group)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def psp_plot(params: SynfireParams, path: str | Path) -> Path:
    """The paper's alpha-PSC PSP and the IR's exponential-PSC PSP of one chain spike."""
    from .params import psp_kernels

    k = psp_kernels(params)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    ax.plot(k["t"], k["alpha"], label=f"paper: alpha PSC, tau_psp = {params.tau_psp} ms")
    ax.plot(k["t"], k["exponential"], ls="--", label=f"IR: exponential PSC, tau_syn = {params.psc_tau:.3f} ms")
    ax.set_xlim(0, 15)
    ax.set_xlabel("time after the spike (ms)")
    ax.set_ylabel("PSP (mV)")
    ax.legend(fontsize=8)
    return _save(fig, path)

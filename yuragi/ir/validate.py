"""Structural and parameter validation of an IR network.

:func:`network_problems` returns every problem found, one line each, each
naming its element (``population 'exc'``, ``projection 'exc->inh'``,
``probe 'exc.w'``) and saying what is allowed. :class:`Network` calls it on
construction, so a Network object is always valid.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from .neurons import ALL_MODELS, StochasticBinary, is_input
from .plasticity import PlasticityProgram
from .projection import SparseWeights

if TYPE_CHECKING:
    from .network import Network, Population, Projection

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\->:]{0,127}$")
MAX_SEED = 2**32
MAX_SIZE = 2**31


def _name_problems(kind: str, name: object) -> list[str]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return [f"{kind} name {name!r} is not allowed: use 1-128 characters, letters, digits, _ . - > :, starting with a letter or _"]
    return []


def population_problems(pop: "Population", dt: float) -> list[str]:
    where = f"population '{pop.name}'"
    out = [f"{where}: {p}" for p in _name_problems("population", pop.name)]
    if not isinstance(pop.size, (int, np.integer)) or isinstance(pop.size, bool) or not 0 < pop.size <= MAX_SIZE:
        return out + [f"{where}: field 'size' must be an integer > 0 and <= 2**31, got {pop.size!r}"]
    if type(pop.model) not in ALL_MODELS.values():
        return out + [f"{where}: field 'model' must be one of {', '.join(ALL_MODELS)}, got {type(pop.model).__name__}"]
    if is_input(pop.model):
        out += [f"{where}: {p}" for p in pop.model.problems(int(pop.size), dt)]
    else:
        out += [f"{where}: {p}" for p in pop.model.problems()]
    iv = pop.initial_v
    if iv.ndim != 1 or iv.shape[0] not in (1, pop.size):
        out.append(f"{where}: field 'initial_v' must have shape (1,) or ({pop.size},), got {iv.shape}")
    elif not np.all(np.isfinite(iv)):
        out.append(f"{where}: field 'initial_v' must be finite")
    return out


def projection_problems(proj: "Projection", sizes: dict[str, int], models: dict[str, object]) -> list[str]:
    where = f"projection '{proj.name}'"
    out = [f"{where}: {p}" for p in _name_problems("projection", proj.name)]
    for end in ("pre", "post"):
        target = getattr(proj, end)
        if target not in sizes:
            known = ", ".join(sizes) or "none"
            out.append(f"{where}: field '{end}' names population '{target}', which does not exist (populations: {known})")
    if out:
        return out
    if is_input(models[proj.post]):
        out.append(f"{where}: population '{proj.post}' is an input; inputs cannot receive projections")
    n_pre, n_post = sizes[proj.pre], sizes[proj.post]
    w = proj.weights
    if isinstance(w, SparseWeights):
        if not (w.pre.ndim == w.post.ndim == w.values.ndim == 1 and w.pre.shape == w.post.shape == w.values.shape):
            return out + [f"{where}: sparse 'pre', 'post', 'values' must be 1-D arrays of equal length, got {w.pre.shape}, {w.post.shape}, {w.values.shape}"]
        if w.nnz and (w.pre.min() < 0 or w.pre.max() >= n_pre):
            out.append(f"{where}: sparse 'pre' indices must lie in [0, {n_pre - 1}] (population '{proj.pre}' has {n_pre} neurons)")
        if w.nnz and (w.post.min() < 0 or w.post.max() >= n_post):
            out.append(f"{where}: sparse 'post' indices must lie in [0, {n_post - 1}] (population '{proj.post}' has {n_post} neurons)")
        if not out and w.nnz and np.unique(w.post * n_pre + w.pre).size != w.nnz:
            out.append(f"{where}: sparse weights list the same (post, pre) pair more than once")
        values, value_shape = w.values, w.values.shape
    else:
        if w.shape != (n_post, n_pre):
            return out + [f"{where}: field 'weights' must have shape (n_post, n_pre) = ({n_post}, {n_pre}), got {w.shape}"]
        values, value_shape = w, w.shape
    if not np.all(np.isfinite(values)):
        out.append(f"{where}: field 'weights' must be finite (found NaN or inf)")
    d = proj.delays
    if d.shape not in ((), value_shape):
        out.append(f"{where}: field 'delays' must be a scalar or have the weights' shape {value_shape}, got {d.shape}")
    elif d.size and d.min() < 1:
        out.append(f"{where}: field 'delays' must be >= 1 step (1 = next step), got minimum {int(d.min())}")
    rp = proj.release_prob
    if not isinstance(rp, (int, float, np.floating)) or isinstance(rp, bool) or not (0.0 < float(rp) <= 1.0):
        out.append(f"{where}: field 'release_prob' must be in (0, 1], got {rp!r}")
    if proj.plasticity is not None and not isinstance(proj.plasticity, PlasticityProgram):
        out.append(f"{where}: field 'plasticity' must be a PlasticityProgram or None, got {type(proj.plasticity).__name__}")
    return out


def plasticity_problems(proj: "Projection", sizes: dict[str, int], models: dict[str, object]) -> list[str]:
    """Cross-reference checks of a plastic projection (its pre and post populations exist).

    A plastic projection runs on Lava's ``LearningDense`` (no synaptic delays)
    and on the learning engine of yuragi's fixed-point backends
    (``yuragi.fixedpoint.learning``), which has no stochastic release; a
    ``post_factor='probability'`` program reads the firing probability of a
    StochasticBinary post population; a ``reward`` population drives ``y2``
    of every post neuron (one reward neuron) or of its own post neuron.
    """
    prog = proj.plasticity
    if not isinstance(prog, PlasticityProgram):
        return []
    where = f"projection '{proj.name}'"
    out = []
    d = proj.delays
    if d.size and d.min() >= 1 and d.max() != 1:
        out.append(
            f"{where}: field 'delays' must be 1 on a plastic projection (Lava's LearningDense has no synaptic delays), "
            f"got delays up to {int(d.max())} steps; use delays=1 or drop the plasticity program"
        )
    rp = proj.release_prob
    if isinstance(rp, (int, float, np.floating)) and not isinstance(rp, bool) and 0.0 < float(rp) < 1.0:
        out.append(
            f"{where}: field 'release_prob' must be 1 on a plastic projection (stochastic release on a learning "
            f"synapse is not supported), got {float(rp):g}; put the release on a static projection"
        )
    if prog.post_factor == "probability" and not isinstance(models[proj.post], StochasticBinary):
        kind = getattr(models[proj.post], "KIND", type(models[proj.post]).__name__)
        out.append(
            f"{where}: plasticity field 'post_factor' = 'probability' needs a StochasticBinary post population "
            f"(y1 is its firing probability), but population '{proj.post}' is {kind}; use post_factor=None (y1 a spike trace)"
        )
    if prog.reward is not None:
        if prog.reward not in sizes:
            known = ", ".join(sizes) or "none"
            out.append(f"{where}: plasticity field 'reward' names population '{prog.reward}', which does not exist (populations: {known})")
        elif sizes[prog.reward] not in (1, sizes[proj.post]):
            out.append(
                f"{where}: plasticity field 'reward' names population '{prog.reward}' of {sizes[prog.reward]} neurons; "
                f"it must have 1 neuron (broadcast to every post neuron) or {sizes[proj.post]} (one per neuron of '{proj.post}')"
            )
    return out


def clamp_problems(pop: "Population", sizes: dict[str, int], models: dict[str, object]) -> list[str]:
    """Cross-reference checks of a clamped StochasticBinary population.

    Its ``clamp`` must name an existing input population of the same size
    (spikes of that input's neuron ``i`` replace the sample of neuron ``i``).
    """
    clamp = getattr(pop.model, "clamp", None)
    if not isinstance(pop.model, StochasticBinary) or not isinstance(clamp, str) or not clamp:
        return []
    where = f"population '{pop.name}'"
    if clamp not in sizes:
        known = ", ".join(n for n in sizes if is_input(models[n])) or "none"
        return [f"{where}: field 'clamp' names population '{clamp}', which does not exist (input populations: {known})"]
    if not is_input(models[clamp]):
        return [f"{where}: field 'clamp' names population '{clamp}', which is not an input population; "
                f"a clamp must be a spike source (PoissonInput, SpikeTimesInput, RasterInput, ExternalInput)"]
    if sizes[clamp] != sizes[pop.name]:
        return [f"{where}: field 'clamp' names population '{clamp}' of {sizes[clamp]} neurons; "
                f"it must have {sizes[pop.name]} (one per neuron of '{pop.name}')"]
    return []


def probe_problems(probe: object, sizes: dict[str, int], models: dict[str, object], projections: set[str]) -> list[str]:
    from .network import POPULATION_VARIABLES, PROJECTION_VARIABLES, Probe

    if not isinstance(probe, Probe):
        return [f"probe {probe!r} must be a Probe"]
    where = f"probe '{probe.key}'"
    if probe.target in sizes:
        allowed = ("spikes",) if is_input(models[probe.target]) else POPULATION_VARIABLES
        if isinstance(models[probe.target], StochasticBinary):
            allowed = ("spikes",)
        if probe.variable not in allowed:
            return [f"{where}: population '{probe.target}' can record {', '.join(allowed)}, not '{probe.variable}'"]
        return []
    if probe.target in projections:
        if probe.variable not in PROJECTION_VARIABLES:
            return [f"{where}: projection '{probe.target}' can record {', '.join(PROJECTION_VARIABLES)}, not '{probe.variable}'"]
        return []
    return [f"{where}: target '{probe.target}' is neither a population nor a projection"]


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    dup = []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    return dup


def network_problems(net: "Network") -> list[str]:
    """Every problem of ``net``, one line each (empty list when valid)."""
    out: list[str] = []
    if not isinstance(net.name, str) or not net.name:
        out.append(f"network name must be a non-empty string, got {net.name!r}")
    if not isinstance(net.dt, (int, float, np.floating)) or isinstance(net.dt, bool) or not math.isfinite(net.dt) or net.dt <= 0:
        out.append(f"network field 'dt' must be a finite time step > 0 ms, got {net.dt!r}")
        dt = 1.0
    else:
        dt = float(net.dt)
    if not isinstance(net.seed, (int, np.integer)) or isinstance(net.seed, bool) or not (0 <= net.seed < MAX_SEED):
        out.append(f"network field 'seed' must be an integer in [0, 2**32), got {net.seed!r}")
    if not net.populations:
        out.append("network has no populations")
    pop_names = [p.name for p in net.populations]
    proj_names = [p.name for p in net.projections]
    for dup in _duplicates(pop_names):
        out.append(f"population name '{dup}' is used more than once")
    for dup in _duplicates(proj_names):
        out.append(f"projection name '{dup}' is used more than once")
    for dup in set(pop_names) & set(proj_names):
        out.append(f"name '{dup}' is used by a population and a projection")
    sizes: dict[str, int] = {}
    models: dict[str, object] = {}
    for pop in net.populations:
        problems = population_problems(pop, dt)
        out += problems
        if not any("field 'size'" in p or "field 'model'" in p for p in problems):
            sizes[pop.name] = int(pop.size)
            models[pop.name] = pop.model
    for pop in net.populations:
        if pop.name in sizes:
            out += clamp_problems(pop, sizes, models)
    for proj in net.projections:
        out += projection_problems(proj, sizes, models)
        if proj.pre in sizes and proj.post in sizes:
            out += plasticity_problems(proj, sizes, models)
    for dup in _duplicates([p.key for p in net.probes if hasattr(p, "key")]):
        out.append(f"probe '{dup}' is listed more than once")
    for probe in net.probes:
        out += probe_problems(probe, sizes, models, set(proj_names))
    return out

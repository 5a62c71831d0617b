"""The IR network of a DSNN: populations and projections with its contacts, for compiler and backends.

Populations: ``x`` (pixels: Poisson sources with spike probability = intensity
per step, or external input), ``on`` (one always-on unit: the bias synapses),
``h`` and ``y`` (``StochasticBinary``). Each of the four synapse groups
``W`` (x->h), ``W_bias`` (on->h), ``U`` (h->y), ``U_bias`` (on->y) is made by
:func:`yuragi.plasticity.gibbs_projections`: ``K`` plastic contact
projections ``"<name>.c<k>"`` (weights ``c * dw``, the Gibbs-synapse
program) plus a static ``"<name>.base"`` of ``-g``, so that
``w = g sum_k (2 c_k - 1) / K``; the contacts are then set to the DSNN's
current ones. With ``plastic=False`` the same weights are static dense
projections (one per group).

``phase='infer'`` gives the free network (labels sample freely).
``phase='train'`` adds ``label``, an external input of ``n_labels`` units
(the clamped labels, ``label_copies`` per class), and clamps ``y`` to it
(``StochasticBinary(clamp='label')``: ``y`` spikes are the label's, its
firing probability -- the learning rule's ``y1`` -- still comes from its own
input). This is the training phase of DSNNs with ``topdown='none'`` (the
``"hardware"`` preset); the top-down terms of the float model are not
expressible here (docs/models/dsnn.md, "Towards Loihi").
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...errors import ModelError, RuleError
from ...ir import ExternalInput, Network, NetworkBuilder, PoissonInput, SparseWeights, StochasticBinary
from .float_model import DSNN, GibbsLayer

__all__ = ["SYNAPSE_GROUPS", "build_network", "hardware_parameters", "temperature"]

#: The four synapse groups: (name, pre, post, layer of the DSNN, columns of that layer's contacts and weights
#: -- the last column is the bias synapse from the always-on unit ``on``).
SYNAPSE_GROUPS = (("W", "x", "h", "hidden", slice(0, -1)), ("W_bias", "on", "h", "hidden", slice(-1, None)),
                  ("U", "h", "y", "label", slice(0, -1)), ("U_bias", "on", "y", "label", slice(-1, None)))


def temperature(net: DSNN) -> float:
    """Temperature ``T`` of the IR's StochasticBinary units: 1 (logistic), ``noise_width / 4`` (piecewise-linear)."""
    return 1.0 if net.config.activation == "logistic" else net.config.noise_width / 4.0


def hardware_parameters(net: DSNN, layer: str):  # noqa: ANN201 - GibbsParameters
    """The Gibbs-synapse program parameters nearest to the DSNN's hyperparameters for ``layer`` ('hidden' or 'label').

    Uses :func:`yuragi.plasticity.gibbs_parameters` with the layer's contact
    step ``dw``, ``beta`` (``beta_hidden`` for the hidden layer), ``tau_s``,
    ``p_s = p_resample / resample_period`` and ``midpoint_nu``.

    Raises
    ------
    RuleError
        Naming the layer, when a value cannot be expressed by the program.
    """
    from ...plasticity import gibbs_parameters

    cfg = net.config
    gl: GibbsLayer = {"hidden": net.hidden, "label": net.label}[layer]
    beta = net.beta_hidden if layer == "hidden" else cfg.beta
    tau = cfg.tau_s if np.isfinite(cfg.tau_s) else 1e12
    try:
        return gibbs_parameters(tau, beta, cfg.p_resample / cfg.resample_period, cfg.rho, weight_step=gl.dw,
                                temperature=temperature(net), midpoint=cfg.midpoint_nu)
    except RuleError as exc:
        raise RuleError(f"DSNN {layer} synapses (dw = {gl.dw:.4g}): {exc}") from None


def _set_contacts(net_ir: Network, base: str, contacts: np.ndarray, dw: float, complement: bool) -> Network:
    """Replace the weights of projections ``base.c<k>`` with ``contacts[k]`` (``(n_post, n_pre)`` bool)."""
    projections = list(net_ir.projections)
    for k in range(contacts.shape[0]):
        name = f"{base}.c{k}"
        pos = next(i for i, p in enumerate(projections) if p.name == name)
        proj = projections[pos]
        w = proj.weights
        if not isinstance(w, SparseWeights):  # pragma: no cover - gibbs_projections makes sparse weights
            raise ModelError(f"projection '{name}': expected sparse contact weights")
        stored = contacts[k][w.post, w.pre].astype(np.float64) - (1.0 if complement else 0.0)
        projections[pos] = dataclasses.replace(proj, weights=SparseWeights(w.pre, w.post, stored * dw))
    return dataclasses.replace(net_ir, projections=tuple(projections))


def build_network(net: DSNN, image: np.ndarray | None = None, plastic: bool = True, name: str = "dsnn", seed: int = 0,
                  phase: str = "infer") -> Network:
    """The IR :class:`~yuragi.ir.Network` of ``net`` with its current contacts.

    Parameters
    ----------
    net : DSNN
        A trained or freshly initialised float DSNN.
    image : numpy.ndarray, optional
        ``(n_pixels,)`` intensities in [0, 1]: ``x`` becomes Poisson sources
        with that spike probability per step (``dt = 1 ms``); default: external input.
    plastic : bool
        True: the synapse groups of the layers that learn (``plastic_hidden``,
        ``plastic_label``) are Gibbs-synapse projections (contacts keep
        resampling when run), the others static; False: every group is a
        static dense projection with the current weights.
    name : str
        Network name.
    seed : int
        The network's seed (every random draw of a run).
    phase : str
        ``'infer'`` (labels free) or ``'train'`` (labels clamped to the external input ``label``).

    Returns
    -------
    Network
        Probes: spikes of ``h`` and ``y``.
    """
    cfg = net.config
    n_pix, nh, ny = net.n_pixels, cfg.n_hidden, net.n_labels
    if phase not in ("infer", "train"):
        raise ModelError(f"DSNN network '{name}': phase must be 'infer' or 'train', got {phase!r}")
    if phase == "train" and cfg.topdown != "none":
        raise ModelError(f"DSNN network '{name}': the training phase is expressible only with topdown='none'"
                         f" (got topdown={cfg.topdown!r}: the hidden units' top-down term has no IR form)")
    b = NetworkBuilder(name, dt=1.0, seed=seed)
    if image is None:
        b.input("x", n_pix, ExternalInput())
    else:
        image = np.asarray(image, dtype=np.float64)
        if image.shape != (n_pix,) or not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
            raise ModelError(f"DSNN network '{name}': image must be {n_pix} intensities in [0, 1], got shape {image.shape}")
        b.input("x", n_pix, PoissonInput(rate_hz=image * 1000.0))
    b.input("on", 1, PoissonInput(rate_hz=[1000.0]))
    T = temperature(net)
    b.population("h", nh, StochasticBinary(temperature=T))
    if phase == "train":
        b.input("label", ny, ExternalInput())
    b.population("y", ny, StochasticBinary(temperature=T, clamp="label" if phase == "train" else None))
    from ...plasticity import gibbs_projections

    learns = {"hidden": plastic and cfg.plastic_hidden, "label": plastic and cfg.plastic_label}
    params = {layer: hardware_parameters(net, layer) for layer, on in learns.items() if on}
    for gname, pre, post, layer_name, cols in SYNAPSE_GROUPS:
        layer, p = getattr(net, layer_name), params.get(layer_name)
        if p is None:  # a layer that does not learn: its current weights, static
            b.connect(pre, post, layer.weights[:, cols], name=gname)
        else:
            gibbs_projections(b, pre, post, g=layer.g, K=layer.K, rho=cfg.rho, seed=seed, a=p.a, m=p.m, k=p.k,
                              midpoint=cfg.midpoint_nu, name=gname)
    b.probe("h", "spikes")
    b.probe("y", "spikes")
    out = b.build()
    for gname, _, _, layer_name, cols in SYNAPSE_GROUPS:
        if layer_name in params:
            layer = getattr(net, layer_name)
            out = _set_contacts(out, gname, layer.c[:, :, cols], layer.dw, params[layer_name].stores_complement)
    return out


def effective_weights(net_ir: Network, group: str) -> np.ndarray:
    """Dense weights of synapse group ``group`` of a DSNN IR network: the sum of its projections."""
    projs = [p for p in net_ir.projections if p.name == group or p.name.startswith(group + ".")]
    if not projs:
        raise ModelError(f"network '{net_ir.name}' has no synapse group '{group}'")
    n_post = net_ir.population(projs[0].post).size
    n_pre = net_ir.population(projs[0].pre).size
    return sum(p.dense_weights(n_post, n_pre) for p in projs)

"""Pass 2, lower plasticity: every plasticity program against the target's learning engine.

:func:`lower_plasticity` runs between target validation
(:mod:`yuragi.compiler.target`) and quantization. For each projection with a
:class:`~yuragi.ir.plasticity.PlasticityProgram` it lowers the program to the
integers of the reference learning engine
(:func:`yuragi.fixedpoint.learning.lower_program`), checks it against the
profile's ``[learning]`` limits, and says how each part of it runs
(:class:`~yuragi.compiler.compiled.FeatureStatus`):

=========================================  ==========  =========================
feature                                    Loihi 2     Loihi 1
=========================================  ==========  =========================
2-factor spike-trace rules (x0, y0, x1,    native      native
x2, y1..y3, w, d, t, u<k>)
``post_factor='probability'`` (y1 = the    microcode   error; ``--allow-emulated``:
post neuron's 7-bit firing probability)                emulated only
``reward`` population driving y2           microcode   same as above
(3-factor rules)
``pre_timing='arrival'`` (pre spikes       microcode   same as above
paired at their arrival step)
stochastic rounding of the updates         native      native
=========================================  ==========  =========================

"Loihi 2" means a profile with ``learning.three_factor = true`` (Lava's
``Loihi3FLearningRule``: post-synaptic factors supplied by the neuron, which
needs a microcode neuron); "Loihi 1" one without. ``pre_timing='arrival'``
also needs ``features.microcode_neurons``: Lava's learning engine sees a
presynaptic spike at its emission step, so pairing it at its arrival step
(one step later, when it drives the post neuron) needs the presynaptic
spike held one step (a microcode neuron / programmable learning engine). Limits checked, one problem
line each (naming the projection, the field, what is allowed):

* ``t_epoch <= learning.max_epoch``;
* product terms per rule ``<= learning.max_product_terms``;
* the widest product of every rule (:func:`~yuragi.fixedpoint.learning.rule_width_bits`:
  factor widths + 4-bit scale mantissa + 1) ``<= 31`` bits: Lava multiplies
  the factors of a product in an ``np.int32`` MAC
  (``magma/core/learning/learning_rule_applier.py``), so wider products
  could overflow;
* trace impulses ``<= 127`` after lowering (7-bit traces);
* traces that exist (``learning.pre_traces`` / ``post_traces``);
* with ``post_factor='probability'`` the program's ``y1`` trace must be left
  at ``Trace()`` (y1 is supplied by the neuron; an impulse or tau would be
  silently ignored).

Randomness: the engine's stochastic rounding draws, in simulation, from
yuragi's counter-based per-synapse RNG (``yuragi/rng.py``, streams of
``yuragi.fixedpoint.learning``); on hardware the chip's own generators are
used, so hardware runs are statistically, not bit-for-bit, equal. Each plastic
projection gets one feature status saying so.
"""

from __future__ import annotations

from ..hw_profiles import HardwareProfile, load_profile
from ..fixedpoint.learning import TRACE_MAX, lower_program, rule_width_bits
from ..ir import Network
from ..ir.plasticity import PlasticityProgram, Trace
from ..ir.projection import Projection
from .compiled import EMULATED, MICROCODE, NATIVE, FeatureStatus
from .features import HINT_EMULATED as _HINT_EMULATED
from .features import HINT_LOIHI2 as _HINT_LOIHI2
from .features import FeatureCollector
from .target import RNG_NOTE, chip_name

__all__ = ["MAC_BITS", "STATUS_ORDER", "lower_plasticity", "projection_status", "traces_used"]

#: Widest product Lava's learning engine multiplies safely: its MAC is ``np.int32``.
MAC_BITS = 31
#: Order of statuses from best to worst (the status of a projection is its worst feature's).
STATUS_ORDER: tuple[str, ...] = (NATIVE, MICROCODE, EMULATED)

_TRACES = ("x1", "x2", "y1", "y2", "y3")


def traces_used(prog: PlasticityProgram) -> list[str]:
    """Traces a program reads in its rules or gives a non-zero impulse, in the order x1, x2, y1, y2, y3."""
    used = set().union(*(rule.symbols for rule in prog.rules.values()))
    if prog.post_factor == "probability":
        used.add("y1")
    return [n for n in _TRACES if n in used or getattr(prog, n).impulse != 0]


def projection_status(statuses: list[FeatureStatus] | tuple[FeatureStatus, ...], projection: str) -> str | None:
    """Worst status among the features of ``projection`` (None if it has none)."""
    element = f"projection '{projection}'"
    found = [s.status for s in statuses if s.element == element]
    if not found:
        return None
    return max(found, key=lambda st: STATUS_ORDER.index(st) if st in STATUS_ORDER else len(STATUS_ORDER))


def _limits(where: str, prog: PlasticityProgram, profile: HardwareProfile) -> list[str]:
    """Problems of one program against the profile's learning-engine limits."""
    learn, chip = profile.learning, chip_name(profile)
    out = []
    if prog.t_epoch > learn.max_epoch:
        out.append(
            f"{where}: plasticity field 't_epoch' = {prog.t_epoch} steps exceeds {chip}'s longest learning epoch "
            f"(learning.max_epoch = {learn.max_epoch} steps); use t_epoch <= {learn.max_epoch}"
        )
    for target, rule in prog.rules.items():
        if len(rule.terms) > learn.max_product_terms:
            out.append(
                f"{where}: plasticity rule {target} has {len(rule.terms)} product terms, more than "
                f"{chip}'s learning engine allows (learning.max_product_terms = {learn.max_product_terms}); "
                f"merge or drop terms"
            )
        width = rule_width_bits(rule)
        if width > MAC_BITS:
            out.append(
                f"{where}: plasticity rule {target} has a product {width} bits wide (factor widths + 4-bit scale "
                f"mantissa + sign), wider than the {MAC_BITS} bits of the learning engine's int32 multiplier "
                f"(Lava LearningRuleApplierBitApprox); use fewer factors per product (w, d, t are 9 bits, traces 7)"
            )
    lowered = lower_program(prog)
    for name, trace in zip(_TRACES, lowered.x + lowered.y):
        whole = trace.impulse_int + (1 if trace.impulse_frac else 0)
        if whole > TRACE_MAX:
            out.append(
                f"{where}: plasticity field '{name}' impulse {getattr(prog, name).impulse:g} exceeds the "
                f"{TRACE_MAX} a 7-bit trace holds (learning.trace_bits = {learn.trace_bits}); use impulse <= {TRACE_MAX}"
            )
    for trace in traces_used(prog):
        index, available = int(trace[1]), (learn.pre_traces if trace[0] == "x" else learn.post_traces)
        if index > available:
            side = "pre" if trace[0] == "x" else "post"
            out.append(
                f"{where}: plasticity uses trace {trace} but {chip} has {available} {side}synaptic "
                f"trace(s) (learning.{side}_traces = {available}); rewrite the rule without {trace}"
            )
    if prog.post_factor == "probability" and prog.y1 != Trace():
        out.append(
            f"{where}: plasticity field 'y1' = Trace(impulse={prog.y1.impulse:g}, tau={prog.y1.tau:g}) would be "
            f"ignored: with post_factor='probability' y1 is the post neuron's firing probability; leave y1 at Trace()"
        )
    return out


def _arrival(where: str, proj: Projection, profile: HardwareProfile, allow_emulated: bool, out: FeatureCollector) -> None:
    """Status of ``pre_timing='arrival'`` (pre spikes paired with the post step they drive)."""
    chip = chip_name(profile)
    what = (f"the learning engine sees a spike of '{proj.pre}' at its arrival step (emission + 1), paired with the "
            f"post spike and probability of '{proj.post}' it drove")
    out.gated(where, "pre_timing 'arrival'", profile.learning.three_factor and profile.features.microcode_neurons,
              f"{what}; Lava's LearningDense pairs spikes at emission: the presynaptic spike is "
              f"held one step by {chip} microcode (programmable learning)",
              f"{what}; {chip}'s learning engine pairs spikes at emission; emulated off-chip (allowed by {_HINT_EMULATED})",
              f"{where}: plasticity field 'pre_timing' = 'arrival' ({what}) cannot run on {chip} (profile "
              f"'{profile.name}': its learning engine pairs presynaptic spikes at emission, no microcode); "
              f"use {_HINT_EMULATED} to emulate it, pre_timing='emission', or {_HINT_LOIHI2}", allow_emulated)


def _three_factor(where: str, feature: str, what: str, profile: HardwareProfile, allow_emulated: bool,
                  out: FeatureCollector) -> None:
    """Status of a 3-factor part of a program (post factor from the neuron, or a reward trace)."""
    chip = chip_name(profile)
    out.gated(where, feature, profile.learning.three_factor,
              f"{what}; {chip} 3-factor learning (Lava Loihi3FLearningRule), the factor is supplied by a microcode neuron",
              f"{what}; {chip}'s learning engine has no third factor; emulated off-chip (allowed by {_HINT_EMULATED})",
              f"{where}: plasticity {feature.split(': ', 1)[-1]} ({what}) cannot run on {chip} (profile "
              f"'{profile.name}': learning.three_factor = false); use {_HINT_EMULATED} to emulate it, or {_HINT_LOIHI2}",
              allow_emulated)


def _lower_projection(proj: Projection, profile: HardwareProfile, allow_emulated: bool, out: FeatureCollector) -> None:
    prog = proj.plasticity
    assert prog is not None
    where = f"projection '{proj.name}'"
    found = _limits(where, prog, profile)
    out.problems += found
    rules = "; ".join(f"{target} = {rule.text}" for target, rule in prog.rules.items())
    decimate = lower_program(prog).decimate
    every = f", u{decimate}: every {2 ** decimate} epochs" if decimate is not None else ""
    if not found:
        out.statuses.append(FeatureStatus(
            where, "plasticity", NATIVE,
            f"learning engine, {rules}; t_epoch={prog.t_epoch}{every}; Lava simulates it bit-approximately "
            "(PyLearningDenseModelBitApproximate), yuragi's backends run yuragi.fixedpoint.learning"))
    if prog.post_factor == "probability":
        _three_factor(where, "3-factor learning: post_factor 'probability'",
                      f"y1 = the 7-bit firing probability of StochasticBinary population '{proj.post}'",
                      profile, allow_emulated, out)
    if prog.reward is not None:
        _three_factor(where, f"3-factor learning: reward population '{prog.reward}'",
                      f"the spikes of '{prog.reward}' drive trace y2",
                      profile, allow_emulated, out)
    if prog.pre_timing == "arrival":
        _arrival(where, proj, profile, allow_emulated, out)
    out.status(where, "stochastic rounding of learning", NATIVE,
               f"per-synapse rounding of w, d, t and of trace updates; {RNG_NOTE}")


def lower_plasticity(
    net: Network,
    profile: HardwareProfile | str,
    allow_emulated: bool = False,
) -> tuple[list[FeatureStatus], list[str]]:
    """Check every plasticity program of ``net`` against the profile's learning engine.

    Parameters
    ----------
    net : Network
        A (valid) IR network: plastic projections already have delays 1,
        ``release_prob`` 1, a StochasticBinary post population for
        ``post_factor='probability'`` and an existing reward population
        (:func:`yuragi.ir.validate.plasticity_problems`).
    profile : HardwareProfile or str
        Target profile or its name / TOML path.
    allow_emulated : bool
        Accept 3-factor programs on a profile without 3-factor learning as
        ``EMULATED`` instead of a problem (CLI ``--allow-emulated``).

    Returns
    -------
    statuses : list of FeatureStatus
        Per plastic projection: ``plasticity`` (native, when the program fits
        the limits), the 3-factor parts (microcode / emulated only) and the
        stochastic rounding note (see the module docstring).
    problems : list of str
        One line per limit the target cannot meet; the pipeline raises them
        with the target's problems in one :class:`~yuragi.errors.CompileError`.
    """
    profile = load_profile(profile)
    out = FeatureCollector()
    for proj in net.projections:
        if proj.plasticity is not None:
            _lower_projection(proj, profile, allow_emulated, out)
    return out.statuses, out.problems

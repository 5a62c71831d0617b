"""Hardware profiles: every Loihi number the compiler and the energy profiler use.

A profile is a TOML file (bundled: ``loihi1.toml``, ``loihi2.toml``; or any
file of the same shape a user writes). Every hardware number in it is a table
``{ value = ..., source = "...", estimated = false }``: ``source`` says where
the number comes from (paper and table, source file and constant, or how it
was derived), ``estimated = true`` marks a number that is not published as
such. The loader validates the whole file against :data:`SCHEMA` (the one
table of every key, its type, unit and allowed range) and returns a frozen
:class:`HardwareProfile` of plain values::

    from yuragi.hw_profiles import load_profile
    p = load_profile("loihi1")           # or load_profile("path/to/my.toml")
    p.core.compartments                  # 1024
    p.energy.synaptic_op                 # 23.6   (pJ)
    p.source_of("energy.synaptic_op")    # 'Davies et al. 2018 ... Table 2 ...'
    p.is_estimated("energy.random_draw") # True

Any problem with a file raises :class:`yuragi.errors.ProfileError` whose
one-line message names the file and the key, e.g.
``loihi1.toml: core.compartments: must be an integer in [1, 1048576], got -5``.

Units: energies in pJ (static power in mW), times in ns, delays and periods
in time steps, widths in bits. See ``docs/hw-profiles.md``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Union

try:  # Python >= 3.11
    import tomllib  # type: ignore[import-not-found]
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from yuragi.errors import ProfileError

__all__ = [
    "SCHEMA",
    "META_KEYS",
    "FAMILIES",
    "FieldSpec",
    "ProfileValue",
    "ChipSpec",
    "CoreSpec",
    "BitSpec",
    "LearningSpec",
    "FeatureSpec",
    "EnergySpec",
    "TimeSpec",
    "HardwareProfile",
    "available_profiles",
    "load_profile",
]

Number = Union[int, float, bool]


# --------------------------------------------------------------------------
# The schema: one table of every key, its type, unit and allowed range.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """What one profile key must hold.

    ``kind`` is ``int``, ``float`` or ``bool``; ``lo``/``hi`` are inclusive
    bounds (``None`` = unbounded; ignored for ``bool``). ``float`` keys also
    accept TOML integers; ``int`` keys accept only TOML integers.
    """

    kind: type
    lo: float | None
    hi: float | None
    unit: str
    doc: str

    def describe(self) -> str:
        """The requirement as written in error messages."""
        if self.kind is bool:
            return "must be a boolean (true or false)"
        what = "an integer" if self.kind is int else "a number"
        lo, hi = _fmt(self.lo), _fmt(self.hi)
        if self.lo is not None and self.hi is not None:
            return f"must be {what} in [{lo}, {hi}]"
        if self.lo is not None:
            return f"must be {what} >= {lo}"
        if self.hi is not None:
            return f"must be {what} <= {hi}"
        return f"must be {what}"


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _i(lo: int | None, hi: int | None, unit: str, doc: str) -> FieldSpec:
    return FieldSpec(int, lo, hi, unit, doc)


def _f(lo: float | None, hi: float | None, unit: str, doc: str) -> FieldSpec:
    return FieldSpec(float, lo, hi, unit, doc)


def _b(doc: str) -> FieldSpec:
    return FieldSpec(bool, None, None, "bool", doc)


#: Plain-string keys of the ``[meta]`` section (not value tables).
META_KEYS: tuple[str, ...] = ("name", "description", "family")

#: Allowed values of ``meta.family``: which Loihi generation's semantics
#: (Lava process flavour, quantisation rules) a profile follows.
FAMILIES: tuple[str, ...] = ("loihi1", "loihi2")

_E = "pJ"
_T = "ns"

#: section -> key -> FieldSpec. The order here is the order of the docs table.
SCHEMA: Mapping[str, Mapping[str, FieldSpec]] = MappingProxyType(
    {
        "chip": MappingProxyType(
            {
                "cores_per_chip": _i(1, 4096, "cores", "neuro-cores usable per chip"),
                "max_chips": _i(1, 16384, "chips", "most chips one network may be placed on"),
                "tiles_x": _i(1, 64, "tiles", "mesh width (east-west) in tiles"),
                "tiles_y": _i(1, 64, "tiles", "mesh height (north-south) in tiles"),
                "cores_per_tile": _i(1, 16, "cores", "neuro-cores sharing one mesh router"),
            }
        ),
        "core": MappingProxyType(
            {
                "compartments": _i(1, 2**20, "compartments", "neuron compartments per core"),
                "synapse_memory_bits": _i(64, 2**30, "bits", "synaptic memory per core"),
                "synapse_word_bits": _i(1, 1024, "bits", "synapse memory word; each synapse group is rounded up to whole words"),
                "synapse_group_size": _i(1, 4096, "synapses", "max synapses per synapse group (one header each)"),
                "synapse_group_header_bits": _i(0, 1024, "bits", "header bits added per synapse group"),
                "synapse_index_bits_max": _i(0, 32, "bits", "widest compartment index stored with an uncompressed synapse"),
                "input_axons": _i(1, 2**20, "axons", "input-axon slots per core"),
                "output_axons": _i(1, 2**20, "axons", "output-axon (fan-out) slots per core"),
                "learning_input_axon_slots": _i(1, 8, "slots", "input-axon slots one plastic input axon occupies"),
                "max_synapse_cfgs": _i(1, 4096, "configs", "distinct synapse formats per core"),
                "max_vth_cfgs": _i(1, 4096, "configs", "distinct threshold configs per core"),
                "max_compartment_cfgs": _i(1, 4096, "configs", "distinct compartment (decay) configs per core"),
            }
        ),
        "bits": MappingProxyType(
            {
                "weight_bits_max": _i(1, 32, "bits", "weight magnitude bits (mixed-sign weights add one sign bit)"),
                "weight_exp_min": _i(-32, 32, "exponent", "smallest shared weight exponent"),
                "weight_exp_max": _i(-32, 32, "exponent", "largest shared weight exponent"),
                "delay_bits": _i(0, 16, "bits", "synaptic delay field width"),
                "max_delay": _i(0, 65535, "steps", "longest synaptic delay"),
                "delay_slots_full_core": _i(1, 65535, "slots", "delay slots available with every compartment of a core in use"),
                "tag_bits": _i(0, 32, "bits", "synaptic tag magnitude bits (sign extra)"),
                "trace_bits": _i(1, 32, "bits", "learning trace width (= learning.trace_bits)"),
                "decay_bits": _i(1, 32, "bits", "current/voltage decay constant width"),
                "vth_mant_bits": _i(1, 32, "bits", "threshold mantissa width"),
                "vth_shift": _i(0, 32, "bits", "threshold mantissa left shift"),
                "bias_mant_bits": _i(1, 32, "bits", "bias mantissa width (signed)"),
                "bias_exp_max": _i(0, 31, "exponent", "largest bias exponent"),
                "state_bits": _i(2, 64, "bits", "current u / voltage v width (signed)"),
                "act_shift": _i(0, 32, "bits", "left shift of synaptic input into u"),
                "refractory_max": _i(0, 65535, "steps", "longest refractory period"),
                "spike_payload_bits_max": _i(0, 32, "bits", "graded-spike payload width (0 = binary spikes only)"),
            }
        ),
        "learning": MappingProxyType(
            {
                "max_epoch": _i(1, 65535, "steps", "longest learning epoch"),
                "trace_bits": _i(1, 32, "bits", "trace width"),
                "trace_fraction_bits": _i(0, 32, "bits", "fractional bits of trace impulses (stochastic rounding)"),
                "accumulator_bits": _i(1, 64, "bits", "signed width of the learning accumulator"),
                "weight_learn_bits": _i(1, 32, "bits", "magnitude bits of a learned weight (sign extra)"),
                "max_product_terms": _i(1, 1024, "terms", "product terms per learning rule (dw, dd or dt)"),
                "pre_traces": _i(0, 8, "traces", "presynaptic traces (x1, x2, ...)"),
                "post_traces": _i(0, 8, "traces", "postsynaptic traces (y1, y2, y3, ...)"),
                "three_factor": _b("programmable third factor (modulatory signal) in rules"),
            }
        ),
        "features": MappingProxyType(
            {
                "refractory": _b("refractory period in the native neuron"),
                "noise": _b("on-chip noise added to u or v"),
                "stochastic_binary_native": _b("native stochastic binary (sigmoid) neuron"),
                "eif_native": _b("native exponential integrate-and-fire neuron"),
                "microcode_neurons": _b("user-programmable (microcode) neuron models"),
                "graded_spikes": _b("spikes carrying an integer payload"),
                "stochastic_release_native": _b("native per-synapse stochastic transmission"),
            }
        ),
        "energy": MappingProxyType(
            {
                "synaptic_op": _f(0, None, _E, "one synaptic spike operation"),
                "synaptic_update": _f(0, None, _E, "one synaptic weight update (pairwise STDP, as published)"),
                "neuron_update_active": _f(0, None, _E, "one update of an active compartment"),
                "neuron_update_inactive": _f(0, None, _E, "one update of an inactive compartment"),
                "spike_within_tile": _f(0, None, _E, "one spike message delivered within a tile"),
                "tile_hop_ew": _f(0, None, _E, "one east-west mesh hop of a spike message"),
                "tile_hop_ns": _f(0, None, _E, "one north-south mesh hop of a spike message"),
                "spike_across_chip": _f(0, None, _E, "one chip-to-chip link crossing (mesh hops priced separately)"),
                "learning_update_per_synapse": _f(0, None, _E, "one synapse visited by the learning engine in one epoch"),
                "random_draw": _f(0, None, _E, "one random number draw"),
                "static_power_mw_per_chip": _f(0, None, "mW", "static (leakage + idle) power per chip"),
                "cpu_baseline_pj_per_synop": _f(0, None, _E, "literature CPU figure per MAC, for comparison only"),
                "gpu_baseline_pj_per_synop": _f(0, None, _E, "literature GPU figure per MAC, for comparison only"),
            }
        ),
        "time": MappingProxyType(
            {
                "synaptic_op": _f(0, None, _T, "one synaptic spike operation"),
                "synaptic_update": _f(0, None, _T, "one synaptic weight update"),
                "neuron_update_active": _f(0, None, _T, "one update of an active compartment"),
                "neuron_update_inactive": _f(0, None, _T, "one update of an inactive compartment"),
                "spike_within_tile": _f(0, None, _T, "one spike message within a tile"),
                "tile_hop_ew": _f(0, None, _T, "one east-west mesh hop"),
                "tile_hop_ns": _f(0, None, _T, "one north-south mesh hop"),
                "barrier_sync_min": _f(0, None, _T, "end-of-step barrier, smallest mesh"),
                "barrier_sync_max": _f(0, None, _T, "end-of-step barrier, whole chip mesh"),
                "barrier_multichip": _f(0, None, _T, "end-of-step barrier across chips"),
                "time_per_step_min_ns": _f(0, None, _T, "floor on the wall-clock time of one step"),
            }
        ),
    }
)


# --------------------------------------------------------------------------
# The profile objects
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileValue:
    """One number of a profile with its provenance."""

    value: Number
    source: str
    estimated: bool


@dataclass(frozen=True)
class ChipSpec:
    """``[chip]``: chip and mesh geometry."""

    cores_per_chip: int
    max_chips: int
    tiles_x: int
    tiles_y: int
    cores_per_tile: int

    @property
    def tiles_per_chip(self) -> int:
        return self.tiles_x * self.tiles_y


@dataclass(frozen=True)
class CoreSpec:
    """``[core]``: per-core resource limits (what the partitioner fills)."""

    compartments: int
    synapse_memory_bits: int
    synapse_word_bits: int
    synapse_group_size: int
    synapse_group_header_bits: int
    synapse_index_bits_max: int
    input_axons: int
    output_axons: int
    learning_input_axon_slots: int
    max_synapse_cfgs: int
    max_vth_cfgs: int
    max_compartment_cfgs: int


@dataclass(frozen=True)
class BitSpec:
    """``[bits]``: fixed-point widths and shifts (what quantisation targets)."""

    weight_bits_max: int
    weight_exp_min: int
    weight_exp_max: int
    delay_bits: int
    max_delay: int
    delay_slots_full_core: int
    tag_bits: int
    trace_bits: int
    decay_bits: int
    vth_mant_bits: int
    vth_shift: int
    bias_mant_bits: int
    bias_exp_max: int
    state_bits: int
    act_shift: int
    refractory_max: int
    spike_payload_bits_max: int


@dataclass(frozen=True)
class LearningSpec:
    """``[learning]``: learning-engine limits (what plasticity lowering checks)."""

    max_epoch: int
    trace_bits: int
    trace_fraction_bits: int
    accumulator_bits: int
    weight_learn_bits: int
    max_product_terms: int
    pre_traces: int
    post_traces: int
    three_factor: bool


@dataclass(frozen=True)
class FeatureSpec:
    """``[features]``: what the chip does natively."""

    refractory: bool
    noise: bool
    stochastic_binary_native: bool
    eif_native: bool
    microcode_neurons: bool
    graded_spikes: bool
    stochastic_release_native: bool


@dataclass(frozen=True)
class EnergySpec:
    """``[energy]``: pJ per operation; static power in mW per chip."""

    synaptic_op: float
    synaptic_update: float
    neuron_update_active: float
    neuron_update_inactive: float
    spike_within_tile: float
    tile_hop_ew: float
    tile_hop_ns: float
    spike_across_chip: float
    learning_update_per_synapse: float
    random_draw: float
    static_power_mw_per_chip: float
    cpu_baseline_pj_per_synop: float
    gpu_baseline_pj_per_synop: float


@dataclass(frozen=True)
class TimeSpec:
    """``[time]``: ns per operation, barrier and step-time floors."""

    synaptic_op: float
    synaptic_update: float
    neuron_update_active: float
    neuron_update_inactive: float
    spike_within_tile: float
    tile_hop_ew: float
    tile_hop_ns: float
    barrier_sync_min: float
    barrier_sync_max: float
    barrier_multichip: float
    time_per_step_min_ns: float


_SECTION_CLASSES: Mapping[str, type] = MappingProxyType(
    {
        "chip": ChipSpec,
        "core": CoreSpec,
        "bits": BitSpec,
        "learning": LearningSpec,
        "features": FeatureSpec,
        "energy": EnergySpec,
        "time": TimeSpec,
    }
)


@dataclass(frozen=True, repr=False)
class HardwareProfile:
    """A validated hardware profile.

    Sections expose plain values (``profile.core.compartments -> int``);
    provenance is looked up by dotted key (``profile.source_of("core.compartments")``).
    Two profiles are equal when their file contents are equal (``sha256``).
    """

    name: str = field(compare=False)
    description: str = field(compare=False)
    family: str = field(compare=False)
    path: Path = field(compare=False)
    sha256: str
    chip: ChipSpec = field(compare=False)
    core: CoreSpec = field(compare=False)
    bits: BitSpec = field(compare=False)
    learning: LearningSpec = field(compare=False)
    features: FeatureSpec = field(compare=False)
    energy: EnergySpec = field(compare=False)
    time: TimeSpec = field(compare=False)
    entries: Mapping[str, ProfileValue] = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return (
            f"HardwareProfile(name={self.name!r}, family={self.family!r}, "
            f"path={str(self.path)!r}, sha256={self.sha256[:12]!r})"
        )

    # -- provenance ---------------------------------------------------------

    def keys(self) -> list[str]:
        """Every dotted key (``"section.key"``) in schema order."""
        return list(self.entries)

    def entry(self, key: str) -> ProfileValue:
        """The value, source and estimated flag of a dotted key."""
        try:
            return self.entries[key]
        except KeyError:
            hint = _did_you_mean(key, self.entries)
            raise ProfileError(
                f"{self.path.name}: unknown profile key {key!r}{hint}"
            ) from None

    def value(self, key: str) -> Number:
        """The plain value of a dotted key, e.g. ``value("energy.synaptic_op")``."""
        return self.entry(key).value

    def source_of(self, key: str) -> str:
        """Where the number of a dotted key comes from."""
        return self.entry(key).source

    def is_estimated(self, key: str) -> bool:
        """True when the number of a dotted key is not published as such."""
        return self.entry(key).estimated

    def estimated_keys(self) -> list[str]:
        """Every dotted key whose number is estimated, in schema order."""
        return [k for k, v in self.entries.items() if v.estimated]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: meta fields plus ``{section: {key: {value, source, estimated}}}``."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "family": self.family,
            "path": str(self.path),
            "sha256": self.sha256,
        }
        for key, pv in self.entries.items():
            section, name = key.split(".", 1)
            out.setdefault(section, {})[name] = {
                "value": pv.value,
                "source": pv.source,
                "estimated": pv.estimated,
            }
        return out


# --------------------------------------------------------------------------
# Finding and loading
# --------------------------------------------------------------------------


def _bundled_dir():  # -> importlib.resources Traversable
    return resources.files(__name__)


def available_profiles() -> list[str]:
    """Names of the bundled profiles (the ``*.toml`` files of this package)."""
    return sorted(
        entry.name[: -len(".toml")]
        for entry in _bundled_dir().iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def _looks_like_path(s: str) -> bool:
    return s.endswith(".toml") or "/" in s or os.sep in s or (
        os.altsep is not None and os.altsep in s
    )


def load_profile(name_or_path: str | os.PathLike[str] | HardwareProfile) -> HardwareProfile:
    """Load and validate a profile.

    ``name_or_path`` is a bundled name (``"loihi1"``, ``"loihi2"``, see
    :func:`available_profiles`), or the path of a TOML file (a
    :class:`pathlib.Path`, or a string ending in ``.toml`` or containing a
    path separator). A :class:`HardwareProfile` is returned unchanged.
    Raises :class:`ProfileError` naming the file and key on any problem.
    """
    if isinstance(name_or_path, HardwareProfile):
        return name_or_path
    if isinstance(name_or_path, os.PathLike) or (
        isinstance(name_or_path, str) and _looks_like_path(name_or_path)
    ):
        path = Path(os.fspath(name_or_path))
        label = str(path)
        if not path.is_file():
            raise ProfileError(
                f"{label}: no such hardware profile file"
                f" (bundled profiles: {', '.join(available_profiles())})"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ProfileError(f"{label}: cannot read: {exc.strerror or exc}") from None
        return _parse(data, label, path)
    if not isinstance(name_or_path, str):
        raise ProfileError(
            "hardware profile must be a profile name or a path to a .toml file,"
            f" got {type(name_or_path).__name__}"
        )
    names = available_profiles()
    if name_or_path not in names:
        hint = _did_you_mean(name_or_path, names)
        raise ProfileError(
            f"unknown hardware profile {name_or_path!r}{hint}; available: "
            f"{', '.join(names)} (or give the path of a .toml file)"
        )
    res = _bundled_dir() / f"{name_or_path}.toml"
    return _parse(res.read_bytes(), f"{name_or_path}.toml", Path(str(res)))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(v: Any) -> str:
    """A value as it would appear in an error message, with its TOML type."""
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return f"{v!r} (a string)"
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "an array"
    return f"{v!r} (a {type(v).__name__})"


def _check_value(spec: FieldSpec, v: Any) -> str | None:
    """None if ``v`` satisfies ``spec``, else the problem (without the key)."""
    bad = f"{spec.describe()}, got {_show(v)}"
    if spec.kind is bool:
        return None if isinstance(v, bool) else bad
    if isinstance(v, bool):
        return bad
    if spec.kind is int:
        if not isinstance(v, int):
            return bad
    elif not isinstance(v, (int, float)) or not math.isfinite(v):
        return bad
    if spec.lo is not None and v < spec.lo:
        return bad
    if spec.hi is not None and v > spec.hi:
        return bad
    return None


_ENTRY_FIELDS = ("value", "source", "estimated")


def _parse(data: bytes, label: str, path: Path) -> HardwareProfile:
    def fail(where: str, problem: str) -> ProfileError:
        return ProfileError(f"{label}: {where}: {problem}" if where else f"{label}: {problem}")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail("", f"not UTF-8 text (byte {exc.start})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail("", f"not valid TOML: {exc}") from None

    sections = ("meta", *SCHEMA)
    for section in doc:
        if section not in sections:
            raise fail(section, f"unknown section{_did_you_mean(section, sections)};"
                       f" allowed: {', '.join(sections)}")
    for section in sections:
        if section not in doc:
            raise fail(section, "missing section")
        if not isinstance(doc[section], dict):
            raise fail(section, f"must be a table [{section}], got {_show(doc[section])}")

    # [meta]: plain strings
    meta = doc["meta"]
    for key in meta:
        if key not in META_KEYS:
            raise fail(f"meta.{key}", f"unknown key{_did_you_mean(key, META_KEYS)};"
                       f" allowed: {', '.join(META_KEYS)}")
    for key in META_KEYS:
        if key not in meta:
            raise fail(f"meta.{key}", "missing key")
        if not isinstance(meta[key], str):
            raise fail(f"meta.{key}", f"must be a string, got {_show(meta[key])}")
    if not meta["name"].strip():
        raise fail("meta.name", "must not be empty")
    if meta["family"] not in FAMILIES:
        raise fail("meta.family", f"must be one of {', '.join(FAMILIES)}, got {meta['family']!r}")

    # hardware sections: value tables
    entries: dict[str, ProfileValue] = {}
    for section, specs in SCHEMA.items():
        table = doc[section]
        for key in table:
            if key not in specs:
                raise fail(f"{section}.{key}", f"unknown key{_did_you_mean(key, specs)}")
        for key, spec in specs.items():
            where = f"{section}.{key}"
            if key not in table:
                raise fail(where, f"missing key ({spec.unit}: {spec.doc})")
            raw = table[key]
            if not isinstance(raw, dict):
                raise fail(where, "must be a table { value = ..., source = \"...\", estimated = ... },"
                           f" got {_show(raw)}")
            for sub in raw:
                if sub not in _ENTRY_FIELDS:
                    raise fail(where, f"unknown field {sub!r}; allowed: {', '.join(_ENTRY_FIELDS)}")
            if "value" not in raw:
                raise fail(where, "missing 'value'")
            if "source" not in raw:
                raise fail(where, "missing 'source' (say where the number comes from)")
            if not isinstance(raw["source"], str) or not raw["source"].strip():
                raise fail(where, f"'source' must be a non-empty string, got {_show(raw['source'])}")
            if "estimated" not in raw:
                raise fail(where, "missing 'estimated' (true if the number is not published as such)")
            if not isinstance(raw["estimated"], bool):
                raise fail(where, f"'estimated' must be true or false, got {_show(raw['estimated'])}")
            problem = _check_value(spec, raw["value"])
            if problem:
                raise fail(where, problem)
            value = raw["value"]
            if spec.kind is float:
                value = float(value)
            entries[where] = ProfileValue(value, raw["source"].strip(), raw["estimated"])

    _check_consistency(entries, fail)

    built = {
        section: cls(**{f.name: entries[f"{section}.{f.name}"].value for f in fields(cls)})
        for section, cls in _SECTION_CLASSES.items()
    }
    return HardwareProfile(
        name=meta["name"].strip(),
        description=meta["description"].strip(),
        family=meta["family"],
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        entries=MappingProxyType(entries),
        **built,
    )


def _check_consistency(e: Mapping[str, ProfileValue], fail) -> None:
    """Relations between keys that single-key ranges cannot express."""

    def v(key: str) -> Number:
        return e[key].value

    if v("bits.weight_exp_min") > v("bits.weight_exp_max"):
        raise fail("bits.weight_exp_min", f"must be <= bits.weight_exp_max ({v('bits.weight_exp_max')}),"
                   f" got {v('bits.weight_exp_min')}")
    if v("bits.max_delay") >= 2 ** v("bits.delay_bits"):
        raise fail("bits.max_delay", f"must be < 2**bits.delay_bits ({2 ** v('bits.delay_bits')}),"
                   f" got {v('bits.max_delay')}")
    if v("learning.trace_bits") != v("bits.trace_bits"):
        raise fail("learning.trace_bits", f"must equal bits.trace_bits ({v('bits.trace_bits')}),"
                   f" got {v('learning.trace_bits')}")
    if v("time.barrier_sync_min") > v("time.barrier_sync_max"):
        raise fail("time.barrier_sync_min", f"must be <= time.barrier_sync_max ({v('time.barrier_sync_max')}),"
                   f" got {v('time.barrier_sync_min')}")
    mesh = v("chip.tiles_x") * v("chip.tiles_y") * v("chip.cores_per_tile")
    if mesh < v("chip.cores_per_chip"):
        raise fail("chip.cores_per_chip", "must be <= chip.tiles_x * chip.tiles_y * chip.cores_per_tile"
                   f" ({mesh}), got {v('chip.cores_per_chip')}")

"""Hardware profiles: bundled numbers, provenance, and every validation error."""

from __future__ import annotations

import dataclasses
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from yuragi.errors import ProfileError, YuragiError
from yuragi.hw_profiles import (
    SCHEMA,
    BitSpec,
    ChipSpec,
    CoreSpec,
    EnergySpec,
    FeatureSpec,
    HardwareProfile,
    LearningSpec,
    TimeSpec,
    available_profiles,
    load_profile,
)

BUNDLED = ("loihi1", "loihi2")
ALL_KEYS = [f"{s}.{k}" for s, specs in SCHEMA.items() for k in specs]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "hw-profiles.md"


def bundled_text(name: str = "loihi1") -> str:
    return (resources.files("yuragi.hw_profiles") / f"{name}.toml").read_text("utf-8")


def set_line(text: str, section: str, key: str, new: str | None) -> str:
    """Replace (or with ``None`` delete) the line ``key = ...`` inside ``[section]``."""
    out, current, done = [], None, False
    for line in text.splitlines():
        header = re.match(r"^\[([A-Za-z_]+)\]\s*$", line)
        if header:
            current = header.group(1)
        elif current == section and re.match(rf"^{re.escape(key)}\s*=", line) and not done:
            done = True
            if new is not None:
                out.append(new)
            continue
        out.append(line)
    assert done, f"{section}.{key} not found"
    return "\n".join(out) + "\n"


def drop_section(text: str, section: str) -> str:
    out, current = [], None
    for line in text.splitlines():
        header = re.match(r"^\[([A-Za-z_]+)\]\s*$", line)
        if header:
            current = header.group(1)
        if current != section:
            out.append(line)
    return "\n".join(out) + "\n"


def write(tmp_path: Path, text: str, name: str = "broken.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert "\n" not in message, "profile errors are one line"
    assert message.startswith(f"{path}: "), message  # names the file
    return message


# ---------------------------------------------------------------- bundled


def test_available_profiles_lists_bundled_files():
    names = available_profiles()
    assert set(BUNDLED) <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_profile_loads(name):
    p = load_profile(name)
    assert isinstance(p, HardwareProfile)
    assert p.name == name and p.family == name
    assert p.path.name == f"{name}.toml"
    assert len(p.sha256) == 64
    assert p.keys() == ALL_KEYS
    assert p.description


def test_loihi1_published_numbers():
    p = load_profile("loihi1")
    # Davies et al. 2018 / nengo-loihi limits (research/loihi.md §1, §4)
    assert p.chip.cores_per_chip == 128
    assert p.core.compartments == 1024
    assert p.core.synapse_memory_bits == 16384 * 64
    assert p.core.input_axons == 4096 and p.core.output_axons == 4096
    assert (p.core.synapse_group_size, p.core.synapse_group_header_bits) == (64, 10)
    assert (p.core.max_synapse_cfgs, p.core.max_vth_cfgs, p.core.max_compartment_cfgs) == (8, 8, 32)
    assert (p.bits.decay_bits, p.bits.vth_mant_bits, p.bits.vth_shift) == (12, 17, 6)
    assert (p.bits.bias_mant_bits, p.bits.bias_exp_max, p.bits.state_bits, p.bits.act_shift) == (13, 7, 24, 6)
    assert (p.bits.weight_exp_min, p.bits.weight_exp_max) == (-7, 7)
    assert p.learning.max_epoch == 63 and p.learning.trace_bits == 7
    assert p.learning.accumulator_bits == 16
    assert p.learning.three_factor is False
    # D18 Table 2
    assert p.energy.synaptic_op == pytest.approx(23.6)
    assert p.energy.synaptic_update == pytest.approx(120.0)
    assert p.energy.neuron_update_active == pytest.approx(81.0)
    assert p.energy.neuron_update_inactive == pytest.approx(52.0)
    assert p.energy.spike_within_tile == pytest.approx(1.7)
    assert (p.energy.tile_hop_ew, p.energy.tile_hop_ns) == (pytest.approx(3.0), pytest.approx(4.0))
    assert p.energy.static_power_mw_per_chip == pytest.approx(104.0)
    assert p.time.synaptic_op == pytest.approx(3.5)
    assert (p.time.barrier_sync_min, p.time.barrier_sync_max) == (pytest.approx(113.0), pytest.approx(465.0))
    for key in ("core.compartments", "chip.cores_per_chip", "energy.synaptic_op",
                "energy.neuron_update_active", "energy.neuron_update_inactive",
                "energy.spike_within_tile"):
        assert not p.is_estimated(key), key
        assert "D18" in p.source_of(key) or "nengo-loihi" in p.source_of(key)
    for key in ("energy.spike_across_chip", "energy.random_draw", "chip.tiles_x"):
        assert p.is_estimated(key), key


def test_loihi2_numbers():
    p = load_profile("loihi2")
    assert p.chip.cores_per_chip == 120
    assert "NUM_VIRTUAL_CORES_L3" in p.source_of("chip.cores_per_chip")
    assert p.core.compartments == 8192 and p.is_estimated("core.compartments")
    assert p.learning.three_factor is True
    assert p.features.microcode_neurons and p.features.graded_spikes
    assert p.bits.spike_payload_bits_max == 32
    assert (p.bits.weight_bits_max, p.bits.decay_bits, p.bits.state_bits) == (8, 12, 24)


def test_loihi2_energy_and_time_are_estimated_proxies():
    p = load_profile("loihi2")
    literature = {"energy.cpu_baseline_pj_per_synop", "energy.gpu_baseline_pj_per_synop"}
    for key in ALL_KEYS:
        if key.startswith(("energy.", "time.")) and key not in literature:
            assert p.is_estimated(key), key
            assert "PROXY" in p.source_of(key), key
    for key in literature:  # comparison figures from the literature, not Loihi 2 numbers
        assert not p.is_estimated(key)
        assert p.source_of(key).startswith("literature figure")


@pytest.mark.parametrize("name", BUNDLED)
def test_every_number_has_a_source(name):
    p = load_profile(name)
    for key in p.keys():
        entry = p.entry(key)
        assert entry.source.strip(), key
        assert isinstance(entry.estimated, bool), key
        assert p.source_of(key) == entry.source
        assert p.value(key) == entry.value
    assert p.estimated_keys() == [k for k in p.keys() if p.is_estimated(k)]


@pytest.mark.parametrize("name", BUNDLED)
def test_section_values_have_schema_types(name):
    p = load_profile(name)
    for key in ALL_KEYS:
        section, attr = key.split(".")
        value = getattr(getattr(p, section), attr)
        assert type(value) is SCHEMA[section][attr].kind, key
        assert value == p.value(key)


def test_section_classes_match_schema():
    classes = {"chip": ChipSpec, "core": CoreSpec, "bits": BitSpec, "learning": LearningSpec,
               "features": FeatureSpec, "energy": EnergySpec, "time": TimeSpec}
    assert list(classes) == list(SCHEMA)
    for section, cls in classes.items():
        assert [f.name for f in dataclasses.fields(cls)] == list(SCHEMA[section]), section


def test_profiles_are_frozen_and_json_ready():
    p = load_profile("loihi1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.core.compartments = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.entries["core.compartments"] = None  # type: ignore[index]
    d = json.loads(json.dumps(p.to_dict()))
    assert d["core"]["compartments"] == {"value": 1024, "source": p.source_of("core.compartments"),
                                         "estimated": False}
    assert d["name"] == "loihi1" and d["sha256"] == p.sha256
    assert load_profile(p) is p


def test_unknown_key_lookup_is_a_profile_error():
    p = load_profile("loihi1")
    with pytest.raises(ProfileError, match=r"unknown profile key 'core\.compartmets' \(did you mean 'core\.compartments'\?\)"):
        p.source_of("core.compartmets")


# ---------------------------------------------------------------- user files


def test_load_user_file_by_path_and_string(tmp_path):
    path = write(tmp_path, bundled_text("loihi2"), "my_board.toml")
    by_path, by_str = load_profile(path), load_profile(str(path))
    assert by_path == by_str == load_profile("loihi2")
    assert by_path.path == path
    assert by_path.core.compartments == 8192


def test_user_file_may_use_dotted_tables(tmp_path):
    text = set_line(bundled_text(), "core", "compartments", None)
    text += '\n[core.compartments]\nvalue = 512\nsource = "my measurement"\nestimated = false\n'
    p = load_profile(write(tmp_path, text))
    assert p.core.compartments == 512 and p.source_of("core.compartments") == "my measurement"


def test_float_keys_accept_integers(tmp_path):
    text = set_line(bundled_text(), "energy", "synaptic_op",
                    'synaptic_op = { value = 24, source = "rounded", estimated = true }')
    p = load_profile(write(tmp_path, text))
    assert p.energy.synaptic_op == 24.0 and type(p.energy.synaptic_op) is float


def test_unknown_profile_name_lists_available():
    with pytest.raises(ProfileError) as info:
        load_profile("loihi3")
    message = str(info.value)
    assert "'loihi3'" in message
    for name in BUNDLED:
        assert name in message
    assert isinstance(info.value, YuragiError)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ProfileError, match=re.escape(f"{path}: no such hardware profile file")):
        load_profile(path)


def test_wrong_argument_type():
    with pytest.raises(ProfileError, match="profile name or a path"):
        load_profile(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------- validation errors


def test_out_of_range_message_names_file_and_key(tmp_path):
    text = set_line(bundled_text(), "core", "compartments",
                    'compartments = { value = -5, source = "x", estimated = false }')
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}: core.compartments: must be an integer in [1, 1048576], got -5"


@pytest.mark.parametrize(
    ("section", "key", "line", "expected"),
    [
        ("core", "compartments", 'compartments = { value = "1024", source = "x", estimated = false }',
         "core.compartments: must be an integer in [1, 1048576], got '1024' (a string)"),
        ("core", "compartments", 'compartments = { value = 1024.5, source = "x", estimated = false }',
         "core.compartments: must be an integer in [1, 1048576], got 1024.5"),
        ("core", "compartments", 'compartments = { value = true, source = "x", estimated = false }',
         "core.compartments: must be an integer in [1, 1048576], got true (a boolean)"),
        ("core", "compartments", "compartments = 1024",
         "core.compartments: must be a table { value = ..., source = \"...\", estimated = ... }, got 1024"),
        ("chip", "cores_per_chip", 'cores_per_chip = { value = 5000, source = "x", estimated = false }',
         "chip.cores_per_chip: must be an integer in [1, 4096], got 5000"),
        ("energy", "synaptic_op", 'synaptic_op = { value = -1.5, source = "x", estimated = false }',
         "energy.synaptic_op: must be a number >= 0, got -1.5"),
        ("energy", "synaptic_op", 'synaptic_op = { value = nan, source = "x", estimated = false }',
         "energy.synaptic_op: must be a number >= 0, got nan"),
        ("energy", "synaptic_op", 'synaptic_op = { value = inf, source = "x", estimated = false }',
         "energy.synaptic_op: must be a number >= 0, got inf"),
        ("time", "tile_hop_ns", 'tile_hop_ns = { value = "fast", source = "x", estimated = false }',
         "time.tile_hop_ns: must be a number >= 0, got 'fast' (a string)"),
        ("features", "noise", 'noise = { value = 1, source = "x", estimated = false }',
         "features.noise: must be a boolean (true or false), got 1"),
        ("core", "compartments", 'compartments = { value = 1024, estimated = false }',
         "core.compartments: missing 'source' (say where the number comes from)"),
        ("core", "compartments", 'compartments = { value = 1024, source = "  ", estimated = false }',
         "core.compartments: 'source' must be a non-empty string, got '  ' (a string)"),
        ("core", "compartments", 'compartments = { value = 1024, source = 7, estimated = false }',
         "core.compartments: 'source' must be a non-empty string, got 7"),
        ("core", "compartments", 'compartments = { value = 1024, source = "x" }',
         "core.compartments: missing 'estimated' (true if the number is not published as such)"),
        ("core", "compartments", 'compartments = { value = 1024, source = "x", estimated = "no" }',
         "core.compartments: 'estimated' must be true or false, got 'no' (a string)"),
        ("core", "compartments", 'compartments = { source = "x", estimated = false }',
         "core.compartments: missing 'value'"),
        ("core", "compartments", 'compartments = { value = 1024, source = "x", estimated = false, unit = "n" }',
         "core.compartments: unknown field 'unit'; allowed: value, source, estimated"),
        ("meta", "family", 'family = "loihi9"',
         "meta.family: must be one of loihi1, loihi2, got 'loihi9'"),
        ("meta", "name", 'name = ""', "meta.name: must not be empty"),
        ("meta", "name", "name = 3", "meta.name: must be a string, got 3"),
    ],
)
def test_bad_value_errors(tmp_path, section, key, line, expected):
    path = write(tmp_path, set_line(bundled_text(), section, key, line))
    assert load_error(path) == f"{path}: {expected}"


def test_missing_key(tmp_path):
    path = write(tmp_path, set_line(bundled_text(), "core", "compartments", None))
    assert load_error(path).startswith(f"{path}: core.compartments: missing key")


def test_missing_meta_key(tmp_path):
    path = write(tmp_path, set_line(bundled_text(), "meta", "description", None))
    assert load_error(path) == f"{path}: meta.description: missing key"


def test_missing_section(tmp_path):
    path = write(tmp_path, drop_section(bundled_text(), "time"))
    assert load_error(path) == f"{path}: time: missing section"


def test_unknown_key_with_suggestion(tmp_path):
    text = set_line(bundled_text(), "core", "compartments",
                    'compartmets = { value = 1024, source = "x", estimated = false }')
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}: core.compartmets: unknown key (did you mean 'compartments'?)"


def test_unknown_key_added(tmp_path):
    text = bundled_text().replace(
        "[core]\n", '[core]\nwidgets = { value = 3, source = "x", estimated = false }\n')
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}: core.widgets: unknown key"


def test_unknown_section(tmp_path):
    path = write(tmp_path, bundled_text() + '\n[energi]\nx = 1\n')
    message = load_error(path)
    assert message.startswith(f"{path}: energi: unknown section (did you mean 'energy'?)")


def test_unparseable_toml(tmp_path):
    path = write(tmp_path, bundled_text() + "\nthis is = = not toml\n")
    message = load_error(path)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line" in message


def test_not_utf8(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert load_error(path).startswith(f"{path}: not UTF-8 text")


@pytest.mark.parametrize(
    ("section", "key", "line", "expected"),
    [
        ("bits", "weight_exp_min", 'weight_exp_min = { value = 9, source = "x", estimated = false }',
         "bits.weight_exp_min: must be <= bits.weight_exp_max (7), got 9"),
        ("bits", "max_delay", 'max_delay = { value = 64, source = "x", estimated = false }',
         "bits.max_delay: must be < 2**bits.delay_bits (64), got 64"),
        ("learning", "trace_bits", 'trace_bits = { value = 8, source = "x", estimated = false }',
         "learning.trace_bits: must equal bits.trace_bits (7), got 8"),
        ("time", "barrier_sync_min", 'barrier_sync_min = { value = 500, source = "x", estimated = false }',
         "time.barrier_sync_min: must be <= time.barrier_sync_max (465.0), got 500.0"),
        ("chip", "tiles_x", 'tiles_x = { value = 4, source = "x", estimated = false }',
         "chip.cores_per_chip: must be <= chip.tiles_x * chip.tiles_y * chip.cores_per_tile (64), got 128"),
    ],
)
def test_inconsistent_values(tmp_path, section, key, line, expected):
    path = write(tmp_path, set_line(bundled_text(), section, key, line))
    assert load_error(path) == f"{path}: {expected}"


# ---------------------------------------------------------------- docs


def test_docs_list_every_key():
    text = DOCS.read_text("utf-8")
    for key in ALL_KEYS:
        assert f"`{key}`" in text, f"docs/hw-profiles.md misses {key}"

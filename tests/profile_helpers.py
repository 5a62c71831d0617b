"""Test helpers shared by several test modules."""

from __future__ import annotations

import re
from importlib import resources

from yuragi.hw_profiles import load_profile


def custom_profile(path, **overrides) -> object:
    """loihi1.toml with some values replaced, e.g. ``core__compartments=4``."""
    wanted = {k.replace("__", "."): v for k, v in overrides.items()}
    text = (resources.files("yuragi.hw_profiles") / "loihi1.toml").read_text()
    out, section, done = [], None, set()
    for line in text.splitlines():
        m = re.match(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
        km = re.match(r"(\w+) = \{ value = ([^,]+),", line)
        if km and f"{section}.{km.group(1)}" in wanted:
            key = f"{section}.{km.group(1)}"
            line = line.replace(f"value = {km.group(2)},", f"value = {wanted[key]},", 1)
            done.add(key)
        out.append(line)
    assert done == set(wanted), set(wanted) - done
    path.write_text("\n".join(out) + "\n")
    return load_profile(path)

"""Shared test fixtures."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("COLUMNS", "200")


@pytest.fixture
def chain_net():
    from yuragi.models.examples import chain

    return chain(seed=1)


@pytest.fixture
def ei_net():
    from yuragi.models.examples import ei_balanced

    return ei_balanced(seed=1)


@pytest.fixture(scope="session")
def l1():
    """The bundled Loihi 1 hardware profile."""
    from yuragi.hw_profiles import load_profile

    return load_profile("loihi1")


@pytest.fixture(scope="session")
def l2():
    """The bundled Loihi 2 hardware profile."""
    from yuragi.hw_profiles import load_profile

    return load_profile("loihi2")

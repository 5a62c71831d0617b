"""Built-in models, each a function returning an IR :class:`~yuragi.ir.Network`.

``yuragi models`` lists them; every CLI command that takes a FILE also takes
one of these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import ModelError
from ..ir import Network
from . import examples, synfire


@dataclass(frozen=True)
class BuiltinModel:
    """A registered model: its name, a one-line description and its builder."""

    name: str
    description: str
    build: Callable[..., Network]


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    m.name: m
    for m in (
        BuiltinModel("chain", "feed-forward chain: 16 Poisson inputs -> 32 LIF -> 8 LIF", examples.chain),
        BuiltinModel("ei_balanced", "random recurrent E/I network: 40 Poisson inputs, 200 exc + 50 inh LIF, 10% connectivity, refractory", examples.ei_balanced),
        BuiltinModel("synfire", "Diesmann et al. 1999 synfire chain: 10 x 100 LIF (or EIF), background noise, input pulse packet, optional inhibitory gate", synfire.synfire_chain),
    )
}


def builtin_model(name: str, **kwargs: object) -> Network:
    """Build the built-in model called ``name`` (ModelError listing the names if unknown)."""
    model = BUILTIN_MODELS.get(name)
    if model is None:
        raise ModelError(f"unknown model '{name}' (built-in models: {', '.join(BUILTIN_MODELS)})")
    return model.build(**kwargs)

"""Recording what each element of a network needs from the target: statuses and problems.

Shared by :mod:`.target` (neurons, projections) and :mod:`.lower` (plasticity programs).
"""

from __future__ import annotations

from .compiled import EMULATED, MICROCODE, FeatureStatus

__all__ = ["HINT_EMULATED", "HINT_LOIHI2", "FeatureCollector"]

HINT_LOIHI2 = "--profile loihi2"
HINT_EMULATED = "--allow-emulated"


class FeatureCollector:
    """Accumulates feature statuses and problems while walking a network."""

    def __init__(self) -> None:
        self.statuses: list[FeatureStatus] = []
        self.problems: list[str] = []

    def status(self, element: str, feature: str, status: str, note: str = "") -> None:
        self.statuses.append(FeatureStatus(element, feature, status, note))

    def problem(self, line: str) -> None:
        self.problems.append(line)

    def gated(self, element: str, feature: str, supported: bool, supported_note: str, emulated_note: str, problem: str,
              allow_emulated: bool) -> None:
        """A feature that needs Loihi 2 microcode: ``MICROCODE`` when ``supported``, else
        ``EMULATED`` (with ``allow_emulated``; ``emulated_note`` says how) or the ``problem`` line."""
        if supported:
            self.status(element, feature, MICROCODE, supported_note)
        elif allow_emulated:
            self.status(element, feature, EMULATED, emulated_note)
        else:
            self.problem(problem)

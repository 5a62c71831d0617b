"""The one error tree of yuragi.

Every error a user can cause derives from :class:`YuragiError`. The CLI prints
``str(error)`` as one line and exits with status 2; nothing else escapes as a
traceback unless ``--debug`` is given.

Messages name the element (population, projection, field, file member) and say
what is allowed, e.g. ``population 'exc': field 'tau_mem' must be > 0 ms, got -1``.
"""

from __future__ import annotations


class YuragiError(Exception):
    """Base class of every error yuragi raises on bad input."""


class ModelError(YuragiError):
    """A network description is invalid (structure, parameters, probes).

    ``problems`` holds one line per problem when several were found at once.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class RuleError(ModelError):
    """A plasticity rule string cannot be parsed or is not expressible."""


class FileFormatError(YuragiError):
    """A ``.yrg`` (or compiled) file is corrupt, truncated or inconsistent."""


class ProfileError(YuragiError):
    """A hardware profile file is missing a key or has a value out of range."""


class CompileError(YuragiError):
    """A network cannot be compiled for the chosen target.

    ``problems`` holds one line per problem (each names its block and resource).
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


class BackendError(YuragiError):
    """A backend cannot run the given program (missing package, bad input)."""


class VerifyError(YuragiError):
    """Verification could not be carried out (not: verification failed)."""


class UserFileExistsError(YuragiError):
    """Refusing to overwrite a file the user saved."""

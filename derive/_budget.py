"""The stage a derivation is in, so that a time budget or a progress line can name it.

Derivations mark their stages with ``with stage("online staircase"): ...``; the command line
reads `current_stage()` from its timer (see escalier.numerics.cli) to report progress and,
when the time budget runs out, which stage was too slow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["current_stage", "stage"]

_STACK: list[str] = []


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark the enclosed code as the derivation stage `name` (stages nest)."""
    _STACK.append(name)
    try:
        yield
    finally:
        _STACK.pop()


def current_stage() -> str:
    """The innermost stage now running ("start" when none is marked), nested stages joined
    by " > "."""
    return " > ".join(_STACK) if _STACK else "start"

"""Claim code that fails: what is caught, and how it is described (issue 24, item 1).

A claim's functions (its import, ``configs``, ``controls``, ``experiment``, ``predict``, ``judge``,
``plot``) are code the program does not control. Whatever they raise — an ``Exception``, or a
``BaseException`` such as ``SystemExit`` from ``sys.exit(0)`` or ``GeneratorExit`` — is a failure of
that claim: a failed run, an inconclusive verdict, a noted plot failure, or a load error at import.
It never ends the program, and so can never fake a pass (``sys.exit(0)`` in an experiment used to
make ``overtensor check`` exit 0 with no output). The one exception is ``KeyboardInterrupt``
(Ctrl-C, and SIGTERM which the CLI raises as one): it keeps its meaning, the sweep stops with its
finished runs stored.

Callers catch ``BaseException`` and re-raise what :func:`is_interrupt` says::

    try:
        value = claim.predict(profile)
    except BaseException as exc:
        if is_interrupt(exc):
            raise
        problem = describe(exc)
        print_traceback(f"claim {claim.id!r}: predict failed", exc)

A failure is recorded in one line; its full traceback goes to stderr (:func:`print_traceback`) when
:func:`tracebacks_wanted`: with ``OVERTENSOR_TRACEBACK=1`` in the environment (inherited by worker
processes) or inside :func:`showing_tracebacks` (``--debug``, ``debug=True``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TextIO, TypeVar

__all__ = [
    "TRACEBACK_ENV",
    "ClaimCodeExit",
    "describe",
    "guarded",
    "is_interrupt",
    "message",
    "print_traceback",
    "showing_tracebacks",
    "tracebacks_wanted",
]

TRACEBACK_ENV = "OVERTENSOR_TRACEBACK"
"""Environment variable: set to anything but ``""`` or ``"0"``, failures print their traceback."""

_SHOWING: list[bool] = [False]  # set by showing_tracebacks (this process only)

F = TypeVar("F", bound=Callable[..., Any])


class ClaimCodeExit(Exception):
    """Claim code raised a ``BaseException`` that is not an ``Exception`` (``sys.exit``, ...).

    Raised by :func:`guarded` in its place, so that callers catching ``Exception`` record it as a
    failure of the claim. The message is :func:`describe` of the original, which is the ``__cause__``.
    """


def is_interrupt(exc: BaseException) -> bool:
    """True for what must stop the program: ``KeyboardInterrupt`` (and its subclasses)."""
    return isinstance(exc, KeyboardInterrupt)


def message(exc: BaseException) -> str:
    """``str(exc)``, or a placeholder when its ``__str__`` fails (hostile claim code)."""
    try:
        return str(exc)
    except BaseException as inner:  # a hostile __str__
        if is_interrupt(inner):
            raise
        return f"<{type(exc).__name__} whose message cannot be printed>"


def describe(exc: BaseException) -> str:
    """``"Type: message"`` of a claim code failure, saying what a ``sys.exit`` call was."""
    name = type(exc).__name__
    text = " ".join(message(exc).split())
    if isinstance(exc, SystemExit):
        code = exc.code
        shown = code if not isinstance(code, str) else repr(code)
        return f"SystemExit: the claim's code called sys.exit({shown})"
    if isinstance(exc, ClaimCodeExit):
        return text
    return f"{name}: {text}" if text else name


class _Guarded:
    """The callable :func:`guarded` returns: a class, not a closure, so that it pickles (by the
    wrapped function's reference) and the report can draw guarded figures in worker processes."""

    __overtensor_guarded__ = True

    def __init__(self, fn: Callable[..., Any], convert: Callable[[Any], Any] | None) -> None:
        functools.update_wrapper(self, fn)
        self.fn, self.convert = fn, convert

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.fn(*args, **kwargs)
            return result if self.convert is None else self.convert(result)
        except Exception:
            raise
        except BaseException as exc:
            if is_interrupt(exc):
                raise
            raise ClaimCodeExit(describe(exc)) from exc


def guarded(fn: F, convert: Callable[[Any], Any] | None = None) -> F:
    """``fn`` whose non-``Exception`` failures (not ``KeyboardInterrupt``) become :class:`ClaimCodeExit`.

    For claim functions called by code that catches ``Exception`` only (the report's figure).
    ``convert``, applied to the result inside the guard, turns it into plain values, so that a hostile
    object returned by claim code fails here too, not later in the caller. The result keeps ``fn``'s
    name, module and docstring, and pickles whenever ``fn`` and ``convert`` do.
    """
    if getattr(fn, "__overtensor_guarded__", False):
        return fn
    return _Guarded(fn, convert)  # type: ignore[return-value]


def tracebacks_wanted() -> bool:
    """Whether failures of claim code print their full traceback (module docstring)."""
    return _SHOWING[-1] or os.environ.get(TRACEBACK_ENV, "") not in ("", "0")


@contextlib.contextmanager
def showing_tracebacks(on: bool = True) -> Iterator[None]:
    """Inside this block (this process), :func:`tracebacks_wanted` is true when ``on``."""
    _SHOWING.append(on or _SHOWING[-1])
    try:
        yield
    finally:
        _SHOWING.pop()


def print_traceback(what: str, exc: BaseException, stream: TextIO | None = None) -> None:
    """``overtensor: <what>:`` and the full traceback of ``exc`` on stderr, if wanted."""
    if not tracebacks_wanted():
        return
    out = stream if stream is not None else sys.stderr
    try:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    except BaseException as inner:  # a hostile __str__ inside the chain
        if is_interrupt(inner):
            raise
        lines = [f"{describe(exc)} (its traceback cannot be printed)\n"]
    out.write(f"overtensor: {what}:\n{''.join(lines)}")
    out.flush()

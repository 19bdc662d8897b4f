"""Pre-registration: the bars, tolerances and seed blocks of every claim, fixed before judged runs.

One versioned file in the package, ``reports/registered.toml``, holds for every claim and profile

* ``bars`` — the thresholds its judge uses, by name (read by the claim: :meth:`Registration.bar`);
* ``tolerances`` — numeric tolerances, by name, for every profile or per profile
  (:meth:`Registration.tolerance`);
* ``seeds`` and ``calibration_seeds`` — the judged seed block (the seeds of its configs, as ranges)
  and the calibration block (the same configs with every seed moved by :data:`CALIBRATION_OFFSET`);
* ``rates`` — every judged rate by name: its ``bar``, ``direction``, planned ``trials`` and the
  calibration counts it was planned with (``calibration = [successes, trials]``, where they came from
  in ``calibrated``), from which its expected rate and power follow (docs/math.md §7.8);
* ``history`` — every change after the first registration: date, commit, what, old and new value,
  reason, and whether judged results had been seen (``results_seen``): the report prints it and marks
  "changed after results".

Seed blocks: a judged config's seeds are its integer fields named ``seed``, ``seed_*`` or ``*_seed``. The calibration block
moves each by :data:`CALIBRATION_OFFSET`, replication block ``K`` by ``K·``:data:`REPLICATION_OFFSET`
(:func:`shift_seeds`); registered blocks stay below :data:`CALIBRATION_OFFSET`, so the three are
disjoint by construction (a registry test checks it).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .statistics import calibration_estimate, rate_power

__all__ = [
    "CALIBRATION_OFFSET",
    "POWER_TARGET",
    "REGISTERED_FILE",
    "REPLICATION_OFFSET",
    "Change",
    "ProfileRegistration",
    "RegisteredRate",
    "Registration",
    "RegistrationError",
    "describe_seeds",
    "load_registered",
    "registration",
    "seed_values",
    "seedless",
    "shift_seeds",
]

REGISTERED_FILE = Path(__file__).with_name("registered.toml")
CALIBRATION_OFFSET = 500_000
"""Calibration runs: every seed of the judged configs plus this (judged seeds stay below it)."""
REPLICATION_OFFSET = 1_000_000
"""Replication block ``K``: every seed of the judged configs plus ``K`` times this."""
POWER_TARGET = {"quick": 0.8, "full": 0.9, "scale": 0.9}
"""The power every judged rate must reach under each profile (docs/math.md §7.8)."""
_DIRECTIONS = ("at_least", "at_most")


class RegistrationError(ValueError):
    """A malformed ``registered.toml`` entry, or a bar or tolerance a claim asks for that is not there."""


@dataclass(frozen=True)
class Change:
    """One change to a registered value after its first registration."""

    date: str
    commit: str
    what: str
    old: Any
    new: Any
    reason: str
    results_seen: bool

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RegisteredRate:
    """A judged rate as planned: bar, direction, trials and the calibration it was planned with."""

    name: str
    bar: float
    direction: str = "at_least"
    trials: int | None = None
    calibration: tuple[int, int] | None = None
    calibrated: str = ""

    @property
    def expected(self) -> float | None:
        """The calibration estimate (Laplace, :func:`reports.statistics.calibration_estimate`)."""
        if self.calibration is None:
            return None
        return calibration_estimate(*self.calibration)

    @property
    def expected_source(self) -> str:
        if self.calibration is None:
            return ""
        k, n = self.calibration
        return f"calibration {k}/{n}" + (f" ({self.calibrated})" if self.calibrated else "")

    @property
    def power(self) -> float | None:
        """Power at the expected rate and the planned trials (:func:`reports.statistics.rate_power`)."""
        if self.expected is None or not self.trials:
            return None
        return rate_power(self.expected, self.trials, self.bar, self.direction)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bar": self.bar,
            "direction": self.direction,
            "trials": self.trials,
            "calibration": list(self.calibration) if self.calibration else None,
            "calibrated": self.calibrated,
            "expected": self.expected,
            "power": self.power,
        }


@dataclass(frozen=True)
class ProfileRegistration:
    """What is registered for one claim under one profile."""

    bars: Mapping[str, float] = field(default_factory=dict)
    tolerances: Mapping[str, float] = field(default_factory=dict)
    rates: Mapping[str, RegisteredRate] = field(default_factory=dict)
    control_rates: Mapping[str, Mapping[str, RegisteredRate]] = field(default_factory=dict)
    """Rates of each negative control (by control name, then rate name): planned to *fail*."""
    seeds: str = ""
    calibration_seeds: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "bars": dict(self.bars),
            "tolerances": dict(self.tolerances),
            "seeds": self.seeds,
            "calibration_seeds": self.calibration_seeds,
            "rates": [r.as_dict() for r in self.rates.values()],
            "controls": {
                name: [r.as_dict() for r in rates.values()]
                for name, rates in self.control_rates.items()
            },
        }


@dataclass(frozen=True)
class Registration:
    """Everything registered for one claim (empty when the file has no entry for it)."""

    claim_id: str
    profiles: Mapping[str, ProfileRegistration] = field(default_factory=dict)
    tolerances: Mapping[str, float] = field(default_factory=dict)
    history: tuple[Change, ...] = ()

    def _profile(self, profile: str) -> ProfileRegistration:
        return self.profiles.get(profile, ProfileRegistration())

    def bar(self, profile: str, name: str) -> float:
        """The registered bar ``name`` of ``profile``; :class:`RegistrationError` if there is none."""
        bars = self._profile(profile).bars
        if name not in bars:
            raise RegistrationError(
                f"claim {self.claim_id!r} has no registered bar {name!r} for profile {profile!r} "
                f"(registered: {sorted(bars) or 'none'}); add it to reports/registered.toml"
            )
        return bars[name]

    def tolerance(self, name: str, profile: str | None = None) -> float:
        """Tolerance ``name``: the profile's own if registered there, else the claim-wide one."""
        if profile is not None and name in self._profile(profile).tolerances:
            return self._profile(profile).tolerances[name]
        if name not in self.tolerances:
            raise RegistrationError(
                f"claim {self.claim_id!r} has no registered tolerance {name!r}"
                + (f" (profile {profile!r})" if profile else "")
                + "; add it to reports/registered.toml"
            )
        return self.tolerances[name]

    def rate(self, profile: str, name: str, control: str | None = None) -> RegisteredRate | None:
        """The registered rate called ``name`` under ``profile`` (of negative control ``control``
        when given), or None."""
        reg = self._profile(profile)
        if control is None:
            return reg.rates.get(name)
        return reg.control_rates.get(control, {}).get(name)

    @property
    def changed_after_results(self) -> bool:
        return any(c.results_seen for c in self.history)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tolerances": dict(self.tolerances),
            "profiles": {p: reg.as_dict() for p, reg in self.profiles.items()},
            "history": [c.as_dict() for c in self.history],
            "changed_after_results": self.changed_after_results,
        }


# ------------------------------------------------------------------------------------------- parsing
def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RegistrationError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _numbers(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, Mapping):
        raise RegistrationError(f"{where}: expected a table of numbers, got {table!r}")
    return {str(k): _number(v, f"{where}.{k}") for k, v in table.items()}


def _rate(name: str, raw: Any, where: str) -> RegisteredRate:
    if not isinstance(raw, Mapping):
        raise RegistrationError(f"{where}: expected a table, got {raw!r}")
    unknown = set(raw) - {"bar", "direction", "trials", "calibration", "calibrated"}
    if unknown:
        raise RegistrationError(f"{where}: unknown field(s) {sorted(unknown)}")
    if "bar" not in raw:
        raise RegistrationError(f"{where}: a registered rate needs a bar")
    bar = _number(raw["bar"], f"{where}.bar")
    if not 0.0 < bar < 1.0:
        raise RegistrationError(f"{where}.bar must lie in (0, 1), got {bar!r}")
    direction = raw.get("direction", "at_least")
    if direction not in _DIRECTIONS:
        raise RegistrationError(
            f"{where}.direction must be one of {_DIRECTIONS}, got {direction!r}"
        )
    trials = raw.get("trials")
    if trials is not None and (
        isinstance(trials, bool) or not isinstance(trials, int) or trials < 1
    ):
        raise RegistrationError(f"{where}.trials must be a positive integer, got {trials!r}")
    calibration = raw.get("calibration")
    if calibration is not None:
        ok = (
            isinstance(calibration, list)
            and len(calibration) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in calibration)
            and 0 <= calibration[0] <= calibration[1]
        )
        if not ok:
            raise RegistrationError(
                f"{where}.calibration must be [successes, trials] with 0 <= successes <= trials, "
                f"got {calibration!r}"
            )
        calibration = (calibration[0], calibration[1])
    return RegisteredRate(name, bar, direction, trials, calibration, str(raw.get("calibrated", "")))


def _change(raw: Any, where: str) -> Change:
    needed = ("date", "commit", "what", "old", "new", "reason", "results_seen")
    if not isinstance(raw, Mapping) or any(k not in raw for k in needed):
        raise RegistrationError(f"{where}: a history entry needs {', '.join(needed)}, got {raw!r}")
    if not isinstance(raw["results_seen"], bool):
        raise RegistrationError(f"{where}.results_seen must be true or false")
    return Change(
        str(raw["date"]),
        str(raw["commit"]),
        str(raw["what"]),
        raw["old"],
        raw["new"],
        str(raw["reason"]),
        raw["results_seen"],
    )


_PROFILE_KEYS = {"bars", "tolerances", "rates", "controls", "seeds", "calibration_seeds"}


def _rates(table: Any, where: str) -> dict[str, RegisteredRate]:
    if not isinstance(table, Mapping):
        raise RegistrationError(f"{where}: expected a table of rates")
    return {str(name): _rate(str(name), raw, f"{where}.{name!r}") for name, raw in table.items()}


def _parse(data: Mapping[str, Any], source: str) -> dict[str, Registration]:
    out: dict[str, Registration] = {}
    for claim_id, entry in data.items():
        where = f"{source}: [{claim_id!r}]"
        if not isinstance(entry, Mapping):
            raise RegistrationError(f"{where}: expected a table")
        profiles: dict[str, ProfileRegistration] = {}
        for key, value in entry.items():
            if key in ("tolerances", "history"):
                continue
            if key not in ("quick", "full", "scale"):
                raise RegistrationError(f"{where}: unknown key {key!r}")
            unknown = set(value) - _PROFILE_KEYS
            if unknown:
                raise RegistrationError(f"{where}.{key}: unknown field(s) {sorted(unknown)}")
            rates = _rates(value.get("rates", {}), f"{where}.{key}.rates")
            controls = value.get("controls", {})
            if not isinstance(controls, Mapping) or not all(
                isinstance(c, Mapping) and set(c) <= {"rates"} for c in controls.values()
            ):
                raise RegistrationError(
                    f"{where}.{key}.controls: expected {{control name = {{rates = {{...}}}}}}"
                )
            profiles[key] = ProfileRegistration(
                bars=_numbers(value.get("bars", {}), f"{where}.{key}.bars"),
                tolerances=_numbers(value.get("tolerances", {}), f"{where}.{key}.tolerances"),
                rates=rates,
                control_rates={
                    str(name): _rates(c.get("rates", {}), f"{where}.{key}.controls.{name!r}.rates")
                    for name, c in controls.items()
                },
                seeds=str(value.get("seeds", "")),
                calibration_seeds=str(value.get("calibration_seeds", "")),
            )
        history = tuple(
            _change(raw, f"{where}.history[{i}]") for i, raw in enumerate(entry.get("history", []))
        )
        out[str(claim_id)] = Registration(
            str(claim_id),
            profiles,
            _numbers(entry.get("tolerances", {}), f"{where}.tolerances"),
            history,
        )
    return out


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, size: int) -> dict[str, Registration]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RegistrationError(f"{path}: not valid TOML: {exc}") from None
    return _parse(data, os.path.basename(path))


def load_registered(path: str | os.PathLike[str] | None = None) -> dict[str, Registration]:
    """Every registration in ``path`` (default: the package's ``registered.toml``), by claim id."""
    p = Path(path) if path is not None else REGISTERED_FILE
    try:
        st = p.stat()
    except OSError:
        if path is None:
            return {}
        raise RegistrationError(f"{p}: registered file not found") from None
    return _load_cached(str(p), st.st_mtime_ns, st.st_size)


def registration(claim_id: str, path: str | os.PathLike[str] | None = None) -> Registration:
    """What is registered for ``claim_id`` (an empty :class:`Registration` when nothing is)."""
    return load_registered(path).get(claim_id, Registration(claim_id))


# ---------------------------------------------------------------------------------------- seed blocks
def _is_seed_name(name: str) -> bool:
    """``seed``, ``seed_*``, ``*_seed`` (``target_seed``): a seed field; ``n_seeds`` is a count."""
    return name == "seed" or name.startswith("seed_") or name.endswith("_seed")


def _seed_fields(config: Any) -> list[str]:
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a dataclass instance, got {config!r}")
    return [
        f.name
        for f in dataclasses.fields(config)
        if _is_seed_name(f.name)
        and isinstance(getattr(config, f.name), int)
        and not isinstance(getattr(config, f.name), bool)
    ]


def seed_values(configs: Iterable[Any]) -> list[int]:
    """Every integer seed of ``configs`` (fields ``seed``, ``seed_*``, ``*_seed``), sorted, unique."""
    return sorted({getattr(c, name) for c in configs for name in _seed_fields(c)})


def shift_seeds(config: Any, offset: int) -> Any:
    """``config`` with every integer seed field moved by ``offset`` (a fresh, disjoint seed block).

    A config without seed fields (``deterministic = True``) is returned unchanged.
    """
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
    names = _seed_fields(config)
    if not names or offset == 0:
        return config
    return dataclasses.replace(config, **{n: getattr(config, n) + offset for n in names})


def seedless(config: Any) -> Any:
    """``config`` with every integer seed field set to 0: the same object for the judged, calibration
    and replication blocks of one setting (for predictions that do not depend on the seed)."""
    names = _seed_fields(config)
    return dataclasses.replace(config, **{n: 0 for n in names}) if names else config


def describe_seeds(values: Sequence[int]) -> str:
    """Sorted seeds as ranges: ``[0, 1, 2, 5, 1000, 1001] -> "0-2, 5, 1000-1001"``."""
    vals = sorted(set(values))
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        parts.append(str(vals[i]) if i == j else f"{vals[i]}-{vals[j]}")
        i = j + 1
    return ", ".join(parts)

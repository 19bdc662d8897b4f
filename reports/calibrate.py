"""Planning a design: calibration runs, the power they give each rate, and writing the registration.

``overtensor calibrate IDS --profile P`` runs the claims' judged configs on the calibration seed block
(every seed moved by :data:`reports.registered.CALIBRATION_OFFSET`), judges them with the claims' own
judges, and prints for every rate (the claim's and its controls') the calibration count, the rate to plan
with, its power at the judged number of runs, and the number of runs that would reach the target power
of the profile (docs/math.md §7.8). With ``--write`` it records the calibration in
``reports/registered.toml`` (:func:`write_calibration`): counts, planned trials, the judged and
calibration seed blocks, and — for a rate registered for the first time — the bar it was judged against.
A bar that differs from the registered one is never overwritten: changing a bar is a decision with a
history entry (docs/math.md §7.10), made by hand.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .registered import (
    CALIBRATION_OFFSET,
    POWER_TARGET,
    REGISTERED_FILE,
    describe_seeds,
    seed_values,
    shift_seeds,
)
from .runner import ClaimOutcome
from .statistics import calibration_estimate, rate_power, trials_for_power

__all__ = ["CalibratedRate", "calibrated_rates", "format_calibration", "write_calibration"]


@dataclass(frozen=True)
class CalibratedRate:
    """One rate of a calibration block and the power it plans for."""

    claim_id: str
    profile: str
    control: str | None
    name: str
    bar: float
    direction: str
    successes: int
    trials: int

    @property
    def expected(self) -> float:
        return calibration_estimate(self.successes, self.trials)

    @property
    def power(self) -> float:
        return rate_power(self.expected, self.trials, self.bar, self.direction)  # type: ignore[arg-type]

    @property
    def trials_needed(self) -> int | None:
        return trials_for_power(
            self.expected,
            self.bar,
            POWER_TARGET[self.profile],
            self.direction,  # type: ignore[arg-type]
        )


def calibrated_rates(outcomes: Sequence[ClaimOutcome]) -> list[CalibratedRate]:
    """Every rate of calibration ``outcomes`` (claims' and controls'), in report order."""
    out: list[CalibratedRate] = []

    def add(o: ClaimOutcome, control: str | None, records: Sequence[Mapping[str, Any]]) -> None:
        for r in records:
            out.append(
                CalibratedRate(
                    o.claim.id,
                    o.profile,
                    control,
                    str(r["name"]),
                    float(r["threshold"]),
                    str(r.get("direction", "at_least")),
                    int(r["successes"]),
                    int(r["trials"]),
                )
            )

    for o in outcomes:
        add(o, None, o.verdict.rates)
        for c in o.verdict.controls:
            add(o, str(c["name"]), c.get("rates", ()))
    return out


def format_calibration(rates: Sequence[CalibratedRate]) -> str:
    """A plain-text table: rate, calibration count, expected rate, bar, power, runs needed."""
    if not rates:
        return "no rate was judged (nothing to plan: checks and contrasts have no power rule here)"
    lines = []
    for r in rates:
        where = f"{r.claim_id} [{r.profile}]" + (f" control {r.control!r}" if r.control else "")
        op = ">=" if r.direction == "at_least" else "<="
        need = r.trials_needed
        target = POWER_TARGET[r.profile]
        flag = "" if r.power >= target else "  <- below the target power"
        lines.append(
            f"{where}: {r.name}: calibration {r.successes}/{r.trials}, expected {r.expected:.3f} "
            f"{op} {r.bar:g}: power {r.power:.3f} at n = {r.trials} (target {target}; "
            f"n needed: {need if need is not None else '> 5000'}){flag}"
        )
    return "\n".join(lines)


def _seed_blocks(claim: Any, profile: str) -> tuple[str, str]:
    configs = list(claim.configs(profile))
    if claim.controls is not None:
        configs += [c for cfgs in claim.controls(profile).values() for c in cfgs]
    judged = seed_values(configs)
    calibration = seed_values(shift_seeds(c, CALIBRATION_OFFSET) for c in configs)
    return describe_seeds(judged), describe_seeds(calibration)


def _spaced(text: str) -> str:
    """One blank line before every table header (tomlkit appends new tables without one)."""
    lines = text.splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("[") and out and out[-1].strip() and not out[-1].startswith("#"):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def write_calibration(
    outcomes: Sequence[ClaimOutcome],
    path: str | os.PathLike[str] | None = None,
    *,
    commit: str = "unknown",
    today: str | None = None,
) -> list[str]:
    """Record the calibration ``outcomes`` in the registered file; the changes made, in words.

    Raises ``ValueError`` when a judged rate's bar differs from its registered bar (change bars by hand,
    with a history entry) or when ``outcomes`` are not a calibration block.
    """
    import tomlkit

    target = Path(path) if path is not None else REGISTERED_FILE
    doc = (
        tomlkit.parse(target.read_text(encoding="utf-8")) if target.exists() else tomlkit.document()
    )
    date = today or _dt.date.today().isoformat()
    changes: list[str] = []
    for o in outcomes:
        if o.seed_offset != CALIBRATION_OFFSET:
            raise ValueError(
                f"{o.claim.id}: outcomes are not a calibration block (seed offset {o.seed_offset}, "
                f"expected {CALIBRATION_OFFSET})"
            )
    for o in outcomes:
        claim_table = doc.setdefault(o.claim.id, tomlkit.table(is_super_table=True))
        prof = claim_table.setdefault(o.profile, tomlkit.table())
        seeds, cal_seeds = _seed_blocks(o.claim, o.profile)
        if seeds:  # a deterministic claim (no seed field) has no seed block
            prof["seeds"] = seeds
            prof["calibration_seeds"] = cal_seeds
        stamp = f"{date}, commit {commit[:12]}, calibration seeds {cal_seeds or 'none'}"
        for rate in calibrated_rates([o]):
            if rate.control is None:
                rates = prof.setdefault("rates", tomlkit.table(is_super_table=True))
            else:
                controls = prof.setdefault("controls", tomlkit.table(is_super_table=True))
                ctl = controls.setdefault(rate.control, tomlkit.table(is_super_table=True))
                rates = ctl.setdefault("rates", tomlkit.table(is_super_table=True))
            entry = rates.get(rate.name)
            if entry is None:
                entry = rates.setdefault(rate.name, tomlkit.table())
                entry["bar"] = rate.bar
                if rate.direction != "at_least":
                    entry["direction"] = rate.direction
                changes.append(
                    f"{o.claim.id} [{o.profile}] {rate.name!r}: registered bar {rate.bar:g}"
                )
            elif abs(float(entry["bar"]) - rate.bar) > 1e-12:
                raise ValueError(
                    f"{o.claim.id} [{o.profile}] rate {rate.name!r}: judged against {rate.bar:g} but "
                    f"registered at {float(entry['bar']):g}; change a bar by hand, with a history "
                    "entry (docs/math.md §7.10)"
                )
            entry["trials"] = rate.trials
            entry["calibration"] = [rate.successes, rate.trials]
            entry["calibrated"] = stamp
            changes.append(
                f"{o.claim.id} [{o.profile}] {rate.name!r}: calibration {rate.successes}/{rate.trials}, "
                f"power {rate.power:.3f}"
            )
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.write_text(_spaced(tomlkit.dumps(doc)), encoding="utf-8")
    os.replace(tmp, target)
    return changes

"""Planned evidence: judged rates against their registration, and replication on a fresh seed block.

* :func:`check_against_registration` — every rate of a verdict gets the expected rate and power of its
  registered entry (docs/math.md §7.8); a rate judged against another bar or on another number of runs
  than ``reports/registered.toml`` says, or one a registered claim does not list, is a design fault
  (§7.10): the verdict cannot hold.
* :func:`replication_record` — the verdict of the same configs on a fresh seed block beside the
  original one, with Fisher's exact test of homogeneity per rate (§7.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registered import Registration
from .registry import Verdict
from .statistics import Rate, homogeneity_p_value

__all__ = ["check_against_registration", "replication_record"]


def _rate(record: Mapping[str, Any]) -> Rate:
    return Rate(
        str(record["name"]),
        int(record["successes"]),
        int(record["trials"]),
        float(record["threshold"]),
        record.get("direction", "at_least"),
    )


def check_against_registration(
    verdict: Verdict, registration: Registration, profile: str, control: str | None = None
) -> tuple[Verdict, list[str]]:
    """``verdict`` with its rates planned from ``registration``, and the design faults found.

    A claim with nothing registered for ``profile`` is left as it is (a claim loaded from outside the
    package may have no registration; its rates then carry no power). Otherwise each rate is looked up
    by name (under ``control`` for a negative control's verdict): its ``expected``/``power`` come from
    the registered calibration; a different bar or number of runs, or a rate the file does not list, is
    a fault. A verdict with faults that would hold becomes inconclusive, naming them.
    """
    if profile not in registration.profiles:
        return verdict, []
    faults: list[str] = []
    planned: list[dict[str, Any]] = []
    for record in verdict.rates:
        rate = _rate(record)
        entry = registration.rate(profile, rate.name, control)
        if entry is None:
            faults.append(f"rate {rate.name!r} is not registered")
            planned.append(dict(record))
            continue
        if abs(entry.bar - rate.threshold) > 1e-12 or entry.direction != rate.direction:
            faults.append(
                f"rate {rate.name!r} was judged against {rate.direction} {rate.threshold:g}, "
                f"but the registered bar is {entry.direction} {entry.bar:g}"
            )
        if entry.trials is not None and entry.trials != rate.trials:
            faults.append(
                f"rate {rate.name!r} was judged on {rate.trials} runs, but {entry.trials} are planned"
            )
        annotated = Rate(
            rate.name,
            rate.successes,
            rate.trials,
            rate.threshold,
            rate.direction,
            entry.expected,
            entry.expected_source,
        ).as_dict()
        planned.append(annotated)
    verdict = verdict.replace(rates=tuple(planned))
    if faults and verdict.status == "holds":
        verdict = verdict.replace(
            status="inconclusive",
            reason="design fault (docs/math.md §7.10): "
            + "; ".join(faults)
            + f". The judge said: {verdict.reason}",
        )
    return verdict, faults


def replication_record(
    original: Verdict, replicate: Verdict, seeds: str, offset: int
) -> dict[str, Any]:
    """The ``replication`` entry of a claim: the fresh block's verdict beside the original one.

    ``rates`` pairs each rate present in both blocks with Fisher's exact two-sided homogeneity
    p-value (docs/math.md §7.9).
    """
    fresh = {str(r["name"]): r for r in replicate.rates}
    rates: list[dict[str, Any]] = []
    for r in original.rates:
        other = fresh.get(str(r["name"]))
        if other is None:
            continue
        k1, n1 = int(r["successes"]), int(r["trials"])
        k2, n2 = int(other["successes"]), int(other["trials"])
        rates.append(
            {
                "name": r["name"],
                "original": [k1, n1],
                "replication": [k2, n2],
                "replication_status": other.get("status"),
                "homogeneity_p_value": homogeneity_p_value(k1, n1, k2, n2),
            }
        )
    return {
        "verdict": replicate.status,
        "margin": replicate.margin,
        "reason": replicate.reason,
        "seeds": seeds,
        "seed_offset": offset,
        "agrees": replicate.status == original.status,
        "rates": rates,
    }

"""Evidence rules shared by every judge (docs/math.md §7).

A verdict is only worth what could have contradicted it. This module is the one place where the rules
live; judges call it and never re-implement them.

* **Rates** (:class:`Rate`, :func:`rate_at_least`, :func:`rate_at_most`): successes/trials with the exact
  Clopper–Pearson 95% interval, judged by a three-valued rule — "rate >= p" *holds* when the interval's
  lower bound is >= p, *fails* when its upper bound is < p, and is *inconclusive* otherwise.
* **Paired contrasts** (:class:`Contrast`, :func:`paired_contrast`): two arms run on the same seeds,
  targets and settings; McNemar's exact test (a one-sided binomial test on the discordant pairs).
* **Tolerance checks** (:class:`Check`, :func:`within`, :func:`at_most`, :func:`at_least`,
  :func:`interval_within`, :func:`interval_beyond`): a measured value (or an interval estimate such as a
  fitted slope's) against a tolerance fixed before the runs; :func:`exact` for identities proved
  case by case (no tolerance); :func:`worst_of` summarises one check per case by its worst case.
* **Margins**: every part carries a signed ``margin`` — how far inside (+) or outside (−) its tolerance
  the measurement lies, as a fraction of the tolerance; a verdict's margin is the smallest of its parts'.
  ``holds`` implies ``margin >= 0`` and ``fails`` implies ``margin < 0``.
* **Slopes with intervals** (:func:`linear_fit`): least-squares slope with its t-interval.
* :class:`Evidence` collects the parts of one judge and produces the :class:`~reports.registry.Verdict`.

Controls (a configuration where the theory predicts the effect absent) are run by the runner with the
claim's own experiment and judged by the claim's own judge; see :class:`ControlResult`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import stats

from . import numfmt

if TYPE_CHECKING:
    from .registry import Verdict

Status = Literal["holds", "fails", "inconclusive"]
STATUSES: tuple[Status, ...] = ("holds", "fails", "inconclusive")
LEVEL = 0.95

__all__ = [
    "Check",
    "Contrast",
    "ControlResult",
    "Evidence",
    "LinearFit",
    "Rate",
    "at_least",
    "at_most",
    "clopper_pearson",
    "combine_status",
    "calibration_estimate",
    "exact",
    "homogeneity_p_value",
    "interval_beyond",
    "interval_within",
    "linear_fit",
    "mcnemar_p_value",
    "paired_contrast",
    "rate_at_least",
    "rate_at_most",
    "rate_decision_probabilities",
    "rate_power",
    "trials_for_power",
    "within",
    "worst_of",
]


def _check_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


def _check_unit(value: object, name: str, *, open_interval: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    ok = 0.0 < x < 1.0 if open_interval else 0.0 <= x <= 1.0
    if not ok:
        span = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {span}, got {value!r}")
    return x


def _real(value: object, name: str) -> float:
    """A real number (NaN and infinities allowed: they make a check inconclusive)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def _interval(ci: object, name: str = "ci") -> tuple[float, float]:
    if not isinstance(ci, Sequence | np.ndarray) or isinstance(ci, str) or len(ci) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {ci!r}")
    lo, hi = _real(ci[0], f"{name}[0]"), _real(ci[1], f"{name}[1]")
    if lo > hi:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {ci!r}")
    return lo, hi


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def clopper_pearson(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Clopper–Pearson) two-sided confidence interval for a binomial proportion.

    Same numbers as ``scipy.stats.binomtest(k, n).proportion_ci(level, method="exact")``; with
    ``trials == 0`` the interval is the whole ``[0, 1]`` (nothing was measured).
    """
    k = _check_count(successes, "successes")
    n = _check_count(trials, "trials")
    if k > n:
        raise ValueError(f"successes must be <= trials, got {k} > {n}")
    level = _check_unit(level, "level")
    if n == 0:
        return 0.0, 1.0
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def combine_status(statuses: Iterable[Status]) -> Status:
    """``fails`` if any part fails, else ``inconclusive`` if any is, else ``holds`` (empty: inconclusive)."""
    seen = list(statuses)
    for s in seen:
        if s not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {s!r}")
    if not seen:
        return "inconclusive"
    if "fails" in seen:
        return "fails"
    if "inconclusive" in seen:
        return "inconclusive"
    return "holds"


# ---------------------------------------------------------------------------------------------- rates
@dataclass(frozen=True)
class Rate:
    """``successes`` of ``trials`` against ``threshold`` with the exact 95% interval.

    ``direction="at_least"``: the claim is "rate >= threshold" — holds when the interval's lower bound
    is >= threshold, fails when its upper bound is < threshold, inconclusive otherwise.
    ``direction="at_most"``: the mirror image ("rate <= threshold").
    ``margin`` is a fraction of ``threshold``, measured from the interval's decisive end:
    ``(lo - p)/p`` (``at_least``) or ``(p - hi)/p`` (``at_most``) when the rule does not fail (>= 0 iff
    it holds), and ``(hi - p)/p`` or ``(p - lo)/p`` when it fails (< 0). With ``trials == 0`` the
    interval is ``[0, 1]`` and the rule is inconclusive.
    """

    name: str
    successes: int
    trials: int
    threshold: float
    direction: Literal["at_least", "at_most"] = "at_least"
    expected: float | None = None
    """The rate a calibration on seeds disjoint from the judged ones leads one to expect
    (:func:`calibration_estimate`), or None when the rate was not planned."""
    expected_source: str = ""
    """Where ``expected`` comes from (calibration block, counts, commit)."""

    def __post_init__(self) -> None:
        if self.expected is not None:
            _check_unit(self.expected, "expected", open_interval=False)
        _check_count(self.successes, "successes")
        _check_count(self.trials, "trials")
        if self.successes > self.trials:
            raise ValueError(f"successes must be <= trials, got {self.successes} > {self.trials}")
        _check_unit(self.threshold, "threshold")
        if self.direction not in ("at_least", "at_most"):
            raise ValueError(f"direction must be 'at_least' or 'at_most', got {self.direction!r}")

    @cached_property
    def ci95(self) -> tuple[float, float]:
        return clopper_pearson(self.successes, self.trials)

    @property
    def estimate(self) -> float:
        return self.successes / self.trials if self.trials else float("nan")

    @property
    def status(self) -> Status:
        lo, hi = self.ci95
        p = self.threshold
        if self.trials == 0:
            return "inconclusive"
        if self.direction == "at_least":
            return "holds" if lo >= p else "fails" if hi < p else "inconclusive"
        return "holds" if hi <= p else "fails" if lo > p else "inconclusive"

    @property
    def margin(self) -> float:
        lo, hi = self.ci95
        p = self.threshold
        if self.direction == "at_least":
            return (hi - p) / p if self.status == "fails" else (lo - p) / p
        return (p - lo) / p if self.status == "fails" else (p - hi) / p

    @property
    def power(self) -> float | None:
        """Probability, at ``expected`` and this rate's ``trials``, that the rule reaches the verdict
        on the side of the bar where ``expected`` lies (:func:`rate_power`); None if not planned."""
        if self.expected is None or self.trials == 0:
            return None
        return rate_power(self.expected, self.trials, self.threshold, self.direction)

    @property
    def power_of(self) -> Status | None:
        """The verdict :attr:`power` is the probability of (``"holds"`` or ``"fails"``)."""
        if self.expected is None:
            return None
        return _expected_verdict(self.expected, self.threshold, self.direction)

    def describe(self) -> str:
        lo, hi = self.ci95
        op = ">=" if self.direction == "at_least" else "<="
        return (
            f"{self.name}: {self.successes}/{self.trials} (95% CI {numfmt.interval(lo, hi)}) {op} "
            f"{self.threshold:g}: {self.status}"
        )

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.ci95
        return {
            "name": self.name,
            "successes": self.successes,
            "trials": self.trials,
            "ci95": [lo, hi],
            "threshold": self.threshold,
            "direction": self.direction,
            "status": self.status,
            "margin": self.margin,
            "expected": self.expected,
            "expected_source": self.expected_source,
            "power": self.power,
            "power_of": self.power_of,
        }


def rate_at_least(name: str, successes: int, trials: int, threshold: float) -> Rate:
    """The rule "rate >= ``threshold``" (see :class:`Rate`)."""
    return Rate(name, successes, trials, threshold, "at_least")


def rate_at_most(name: str, successes: int, trials: int, threshold: float) -> Rate:
    """The rule "rate <= ``threshold``" (see :class:`Rate`)."""
    return Rate(name, successes, trials, threshold, "at_most")


# ------------------------------------------------------------------------------------- planned power
def calibration_estimate(successes: int, trials: int) -> float:
    """The rate to plan with after ``successes`` of ``trials`` calibration runs: ``(k + 1)/(n + 2)``.

    Laplace's rule of succession (the posterior mean under a uniform prior): never 0 or 1, so a
    calibration without a single failure does not promise power that a few more seeds could take
    away (docs/math.md §7.8).
    """
    k = _check_count(successes, "successes")
    n = _check_count(trials, "trials")
    if k > n:
        raise ValueError(f"successes must be <= trials, got {k} > {n}")
    return (k + 1) / (n + 2)


def _expected_verdict(p: float, threshold: float, direction: str) -> Status:
    if direction == "at_least":
        return "holds" if p >= threshold else "fails"
    return "holds" if p <= threshold else "fails"


def _interval_bounds(trials: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the exact 95% interval for every count ``k = 0..trials``."""
    n = trials
    k = np.arange(n + 1)
    alpha = (1 - LEVEL) / 2
    with np.errstate(all="ignore"):
        lower = np.where(k == 0, 0.0, stats.beta.ppf(alpha, k, n - k + 1))
        upper = np.where(k == n, 1.0, stats.beta.ppf(1 - alpha, k + 1, n - k))
    return lower, upper


def rate_decision_probabilities(
    p: float, trials: int, threshold: float, direction: Literal["at_least", "at_most"] = "at_least"
) -> dict[str, float]:
    """Exact probabilities of the three verdicts of :class:`Rate` when the true rate is ``p``.

    ``{"holds": ..., "fails": ..., "inconclusive": ...}`` for ``trials`` independent runs judged by the
    exact-interval rule of docs/math.md §7.3: the binomial probabilities of the counts ``k`` whose
    interval clears, misses or straddles the bar.
    """
    p = _check_unit(p, "p", open_interval=False)
    n = _check_count(trials, "trials")
    threshold = _check_unit(threshold, "threshold")
    if direction not in ("at_least", "at_most"):
        raise ValueError(f"direction must be 'at_least' or 'at_most', got {direction!r}")
    if n == 0:
        return {"holds": 0.0, "fails": 0.0, "inconclusive": 1.0}
    lower, upper = _interval_bounds(n)
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    if direction == "at_least":
        holds, fails = pmf[lower >= threshold].sum(), pmf[upper < threshold].sum()
    else:
        holds, fails = pmf[upper <= threshold].sum(), pmf[lower > threshold].sum()
    holds, fails = min(1.0, float(holds)), min(1.0, float(fails))
    return {"holds": holds, "fails": fails, "inconclusive": max(0.0, 1.0 - holds - fails)}


def rate_power(
    p: float, trials: int, threshold: float, direction: Literal["at_least", "at_most"] = "at_least"
) -> float:
    """Power of a planned rate: the probability, when the true rate is ``p``, that ``trials`` runs
    give the verdict on the side of the bar where ``p`` lies.

    For "rate >= bar" with ``p >= bar`` this is the probability that the exact interval's lower
    bound clears the bar; with ``p < bar``, that its upper bound falls below it (an honest *fails*
    is a decision too). docs/math.md §7.8.
    """
    probs = rate_decision_probabilities(p, trials, threshold, direction)
    return probs[_expected_verdict(p, threshold, direction)]


def trials_for_power(
    p: float,
    threshold: float,
    power: float = 0.9,
    direction: Literal["at_least", "at_most"] = "at_least",
    *,
    max_trials: int = 5000,
) -> int | None:
    """The smallest number of runs whose :func:`rate_power` at ``p`` reaches ``power``.

    None when no ``n <= max_trials`` does (``p`` too close to the bar to be decided affordably).
    Power is not monotone in ``n`` (the counts are discrete), so the answer is the first ``n`` that
    reaches it; :func:`rate_power` at the chosen ``n`` is what a registry test checks.
    """
    _check_unit(power, "power")
    n_max = _check_count(max_trials, "max_trials")
    lo = 1
    step = 1
    n = lo
    # exponential search for an n that reaches the power, then the first n below it that does
    while n <= n_max and rate_power(p, n, threshold, direction) < power:
        n += step
        step = min(step * 2, 64)
    if n > n_max:
        return None
    first = n
    for m in range(max(1, n - step), n):
        if rate_power(p, m, threshold, direction) >= power:
            first = m
            break
    return first


def homogeneity_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test that two blocks share one success rate.

    Used by replication (docs/math.md §7.9): the same configs on two disjoint seed blocks give
    ``k1/n1`` and ``k2/n2``; a small p-value says the blocks disagree more than chance allows.
    1.0 when either block is empty.
    """
    for value, name in ((k1, "k1"), (n1, "n1"), (k2, "k2"), (n2, "n2")):
        _check_count(value, name)
    if k1 > n1 or k2 > n2:
        raise ValueError(f"successes must not exceed trials, got {k1}/{n1} and {k2}/{n2}")
    if n1 == 0 or n2 == 0:
        return 1.0
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


# ------------------------------------------------------------------------------------------ contrasts
def mcnemar_p_value(discordant_a: int, discordant_b: int) -> float:
    """One-sided exact McNemar p-value for "arm a succeeds more often than arm b".

    Under the null (no difference) each discordant pair favours a or b with probability 1/2; the
    p-value is ``P(Bin(n, 1/2) >= discordant_a)`` with ``n = discordant_a + discordant_b``
    (1.0 when there are no discordant pairs).
    """
    a = _check_count(discordant_a, "discordant_a")
    b = _check_count(discordant_b, "discordant_b")
    if a + b == 0:
        return 1.0
    return float(stats.binomtest(a, a + b, 0.5, alternative="greater").pvalue)


@dataclass(frozen=True)
class Contrast:
    """A paired comparison "arm a beats arm b" on matched runs (McNemar's exact test).

    ``discordant_a``: pairs where only arm a succeeded; ``discordant_b``: only arm b. Rule: holds when
    the one-sided p-value is <= ``threshold`` (a level in (0, 0.5): with a larger one a tie could
    "hold"); fails when arm a is not ahead at all (``discordant_a <= discordant_b``); inconclusive
    otherwise (ahead, but not significantly) and when there are no pairs at all.
    ``margin``: ``(log10 threshold - log10 p) / |log10 threshold|`` when ahead (>= 0 iff significant),
    ``-1 - (discordant_b - discordant_a)/pairs`` when not ahead, ``-1`` with no pairs.
    """

    name: str
    discordant_a: int
    discordant_b: int
    pairs: int
    threshold: float = 0.05

    def __post_init__(self) -> None:
        _check_count(self.discordant_a, "discordant_a")
        _check_count(self.discordant_b, "discordant_b")
        _check_count(self.pairs, "pairs")
        if self.discordant_a + self.discordant_b > self.pairs:
            raise ValueError(
                f"discordant pairs ({self.discordant_a} + {self.discordant_b}) exceed pairs={self.pairs}"
            )
        if _check_unit(self.threshold, "threshold") >= 0.5:
            raise ValueError(f"threshold must lie in (0, 0.5), got {self.threshold!r}")

    @cached_property
    def p_value(self) -> float:
        return mcnemar_p_value(self.discordant_a, self.discordant_b)

    @property
    def status(self) -> Status:
        if self.pairs == 0:
            return "inconclusive"
        if self.p_value <= self.threshold:
            return "holds"
        if self.discordant_a <= self.discordant_b:
            return "fails"
        return "inconclusive"

    @property
    def margin(self) -> float:
        if self.pairs == 0:
            return -1.0
        if self.discordant_a <= self.discordant_b:
            return -1.0 - (self.discordant_b - self.discordant_a) / self.pairs
        lt = math.log10(self.threshold)
        return (lt - math.log10(self.p_value)) / abs(lt)

    def describe(self) -> str:
        return (
            f"{self.name}: only-a {self.discordant_a}, only-b {self.discordant_b} of {self.pairs} "
            f"pairs, McNemar exact one-sided p = {self.p_value:.3g} (threshold {self.threshold:g}): "
            f"{self.status}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "discordant_a": self.discordant_a,
            "discordant_b": self.discordant_b,
            "pairs": self.pairs,
            "p_value": self.p_value,
            "threshold": self.threshold,
            "status": self.status,
            "margin": self.margin,
        }


def paired_contrast(
    name: str, a: Sequence[bool], b: Sequence[bool], threshold: float = 0.05
) -> Contrast:
    """McNemar contrast from matched outcomes ``a[i]``, ``b[i]`` (same seed/target/setting ``i``)."""
    if len(a) != len(b):
        raise ValueError(f"paired outcomes must have equal length, got {len(a)} and {len(b)}")
    only_a = sum(bool(x) and not bool(y) for x, y in zip(a, b, strict=True))
    only_b = sum(bool(y) and not bool(x) for x, y in zip(a, b, strict=True))
    return Contrast(name, only_a, only_b, len(a), threshold)


# --------------------------------------------------------------------------------- tolerance checks
@dataclass(frozen=True)
class Check:
    """One judged quantity: its status, signed margin (fraction of the tolerance) and a description."""

    name: str
    status: Status
    margin: float
    detail: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if math.isnan(self.margin):
            if self.status != "inconclusive":
                raise ValueError(
                    f"check {self.name!r}: a NaN margin is only allowed when inconclusive"
                )
        elif self.status == "holds" and self.margin < 0:
            raise ValueError(f"check {self.name!r} holds with negative margin {self.margin}")
        elif self.status == "fails" and self.margin >= 0:
            raise ValueError(f"check {self.name!r} fails with non-negative margin {self.margin}")

    def describe(self) -> str:
        return f"{self.name}: {self.detail}: {self.status} (margin {numfmt.margin(self.margin)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "margin": self.margin,
            "detail": self.detail,
        }


def _value(x: float) -> str:
    """A measured value in a check's detail: 6 significant digits; ``∞`` at sentinel size (a claim's
    ``min(x, 1e300)`` for "never reached")."""
    return numfmt.number(x) if abs(x) >= numfmt.SENTINEL else f"{x:.6g}"


def _nan_check(name: str, what: str) -> Check:
    return Check(name, "inconclusive", float("nan"), f"{what} is not finite")


def within(
    name: str, measured: float, predicted: float, tol: float, *, relative: bool = False
) -> Check:
    """``|measured - predicted| <= tol`` (``relative``: divided by ``|predicted|``).

    margin = ``(tol - err)/tol``.
    """
    tol = _finite(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    measured, predicted = _real(measured, "measured"), _real(predicted, "predicted")
    if not (math.isfinite(measured) and math.isfinite(predicted)):
        return _nan_check(name, "the measured or predicted value")
    err = abs(measured - predicted)
    if relative:
        if predicted == 0:
            raise ValueError("predicted must be non-zero with relative=True, got 0")
        err /= abs(predicted)
    kind = "relative " if relative else ""
    status: Status = "holds" if err <= tol else "fails"
    return Check(
        name,
        status,
        (tol - err) / tol,
        f"measured {measured:.6g} vs predicted {predicted:.6g}: {kind}error {err:.3g} (tolerance {tol:g})",
    )


def at_most(name: str, value: float, bound: float) -> Check:
    """``value <= bound``; margin = ``(bound - value)/|bound|`` (``bound != 0``)."""
    bound = _finite(bound, "bound")
    if bound == 0:
        raise ValueError("bound must be non-zero (the margin is a fraction of it), got 0")
    value = _real(value, "value")
    if not math.isfinite(value):
        return _nan_check(name, "the value")
    status: Status = "holds" if value <= bound else "fails"
    return Check(name, status, (bound - value) / abs(bound), f"{_value(value)} <= {bound:g}")


def at_least(name: str, value: float, bound: float) -> Check:
    """``value >= bound``; margin = ``(value - bound)/|bound|`` (``bound != 0``)."""
    bound = _finite(bound, "bound")
    if bound == 0:
        raise ValueError("bound must be non-zero (the margin is a fraction of it), got 0")
    value = _real(value, "value")
    if not math.isfinite(value):
        return _nan_check(name, "the value")
    status: Status = "holds" if value >= bound else "fails"
    return Check(name, status, (value - bound) / abs(bound), f"{_value(value)} >= {bound:g}")


def interval_within(name: str, ci: tuple[float, float], predicted: float, tol: float) -> Check:
    """Three-valued: an interval estimate against ``predicted ± tol``.

    Holds when the whole interval lies inside the band, fails when it lies entirely outside, and is
    inconclusive when it straddles an edge. margin = ``(tol - max(|lo - p|, |hi - p|))/tol`` when it
    does not fail, ``-(distance from the band to the interval)/tol`` when it fails.
    """
    tol = _finite(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    lo, hi = _interval(ci)
    predicted = _real(predicted, "predicted")
    if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(predicted)):
        return _nan_check(name, "the interval or prediction")
    band_lo, band_hi = predicted - tol, predicted + tol
    detail = f"95% CI [{numfmt.interval_sig(lo, hi)}] vs {predicted:.4g} ± {tol:g}"
    if hi < band_lo or lo > band_hi:
        gap = band_lo - hi if hi < band_lo else lo - band_hi
        return Check(name, "fails", -max(gap, 1e-300) / tol, detail)
    worst = max(abs(lo - predicted), abs(hi - predicted))
    if worst <= tol:
        return Check(name, "holds", (tol - worst) / tol, detail)
    return Check(name, "inconclusive", (tol - worst) / tol, detail)


def interval_beyond(
    name: str, ci: tuple[float, float], bound: float, side: Literal["above", "below"]
) -> Check:
    """Three-valued: an interval estimate entirely above (or below) ``bound``.

    ``side="above"`` holds when ``lo >= bound``, fails when ``hi < bound``, inconclusive otherwise;
    margin = ``(lo - bound)/|bound|`` (or ``(hi - bound)/|bound|`` when failing). ``"below"`` mirrors it.
    """
    bound = _finite(bound, "bound")
    if bound == 0:
        raise ValueError("bound must be non-zero (the margin is a fraction of it), got 0")
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    lo, hi = _interval(ci)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return _nan_check(name, "the interval")
    detail = f"95% CI [{numfmt.interval_sig(lo, hi)}] {'>=' if side == 'above' else '<='} {bound:g}"
    scale = abs(bound)
    if side == "above":
        if lo >= bound:
            return Check(name, "holds", (lo - bound) / scale, detail)
        if hi < bound:
            return Check(name, "fails", (hi - bound) / scale, detail)
        return Check(name, "inconclusive", (lo - bound) / scale, detail)
    if hi <= bound:
        return Check(name, "holds", (bound - hi) / scale, detail)
    if lo > bound:
        return Check(name, "fails", (bound - lo) / scale, detail)
    return Check(name, "inconclusive", (bound - hi) / scale, detail)


def exact(name: str, failures: int, cases: int, what: str = "cases") -> Check:
    """An exact check (an identity proved case by case, no numerical tolerance).

    Holds when no case fails (margin ``1``: none of the tolerance is used, there is none); fails when
    any does (margin ``-failures/cases``); inconclusive with no case at all (margin NaN).
    """
    k = _check_count(failures, "failures")
    n = _check_count(cases, "cases")
    if k > n:
        raise ValueError(f"failures must be <= cases, got {k} > {n}")
    if n == 0:
        return Check(name, "inconclusive", float("nan"), f"no {what} were checked")
    if k == 0:
        return Check(name, "holds", 1.0, f"all {n} {what} exact")
    return Check(name, "fails", -k / n, f"{k} of {n} {what} not exact")


def worst_of(name: str, checks: Sequence[Check]) -> Check:
    """One check summarising several of the same kind (e.g. one per case): the smallest margin.

    Status is :func:`combine_status` of the parts; margin the smallest finite part margin (NaN when
    none is finite); the detail quotes the worst part and counts the parts that hold.
    """
    parts = list(checks)
    if not parts:
        raise ValueError("checks must not be empty")
    for c in parts:
        if not isinstance(c, Check):
            raise TypeError(f"checks must be Check objects, got {type(c).__name__}")
    status = combine_status(c.status for c in parts)
    finite = [c for c in parts if not math.isnan(c.margin)]
    worst = min(finite, key=lambda c: c.margin) if finite else parts[0]
    n_hold = sum(c.status == "holds" for c in parts)
    detail = f"{n_hold} of {len(parts)} hold; worst ({worst.name}): {worst.detail}"
    return Check(name, status, worst.margin if finite else float("nan"), detail)


# --------------------------------------------------------------------------------------------- slopes
@dataclass(frozen=True)
class LinearFit:
    """Least-squares line ``y = slope·x + intercept`` with the slope's t-interval at ``level``."""

    slope: float
    intercept: float
    stderr: float
    ci: tuple[float, float]
    n: int
    level: float = LEVEL

    def as_dict(self) -> dict[str, Any]:
        return {
            "slope": self.slope,
            "intercept": self.intercept,
            "stderr": self.stderr,
            "ci95": list(self.ci),
            "n": self.n,
        }


def linear_fit(x: Sequence[float], y: Sequence[float], level: float = LEVEL) -> LinearFit:
    """Ordinary least squares with the slope's exact (Student t, ``n - 2`` dof) confidence interval.

    Needs at least 3 points with at least 2 distinct ``x``; with exactly collinear data the interval
    has zero width.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-d of equal length, got {xa.shape} and {ya.shape}")
    if xa.size < 3:
        raise ValueError(f"a slope interval needs at least 3 points, got {xa.size}")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise ValueError("x and y must be finite")
    if np.ptp(xa) == 0:
        raise ValueError("x must take at least two distinct values")
    level = _check_unit(level, "level")
    res = stats.linregress(xa, ya)
    dof = xa.size - 2
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * float(res.stderr)
    slope = float(res.slope)
    return LinearFit(
        slope, float(res.intercept), float(res.stderr), (slope - half, slope + half), xa.size, level
    )


# -------------------------------------------------------------------------------------------- controls
@dataclass(frozen=True)
class ControlResult:
    """A negative control: the claim's judge applied to a configuration where the effect is absent.

    It must come out ``"fails"``; a control that holds (or is inconclusive) means the check cannot
    discriminate, and the claim is at most inconclusive.
    """

    name: str
    status: Status
    reason: str
    margin: float | None = None
    description: str = ""
    runs: int = 0
    runs_failed: int = 0
    rates: tuple[Mapping[str, Any], ...] = ()
    """The control's judged rates (with their planned power: a control is planned to fail)."""

    @property
    def discriminates(self) -> bool:
        return self.status == "fails"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.status,
            "reason": self.reason,
            "margin": self.margin,
            "description": self.description,
            "runs": self.runs,
            "runs_failed": self.runs_failed,
            "rates": [dict(r) for r in self.rates],
        }


# -------------------------------------------------------------------------------------------- evidence
@dataclass
class Evidence:
    """Collects the parts of one judge (rates, contrasts, checks) and produces its Verdict.

    Example::

        ev = Evidence()
        ev.rate_at_least("in order", k, n, 0.8)
        ev.within("slope", fit.slope, 2.0, 0.1)
        return ev.verdict(predicted="...", measured="...", numbers={...})

    The verdict's status is :func:`combine_status` of the parts; its margin is the smallest part
    margin; its reason lists every part.
    """

    rates: list[Rate] = field(default_factory=list)
    contrasts: list[Contrast] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, part: Rate | Contrast | Check) -> Rate | Contrast | Check:
        if isinstance(part, Rate):
            self.rates.append(part)
        elif isinstance(part, Contrast):
            self.contrasts.append(part)
        elif isinstance(part, Check):
            self.checks.append(part)
        else:
            raise TypeError(f"part must be a Rate, Contrast or Check, got {type(part).__name__}")
        return part

    def rate_at_least(
        self,
        name: str,
        successes: int,
        trials: int,
        threshold: float,
        *,
        expected: float | None = None,
        expected_source: str = "",
    ) -> Rate:
        r = Rate(name, successes, trials, threshold, "at_least", expected, expected_source)
        self.rates.append(r)
        return r

    def rate_at_most(
        self,
        name: str,
        successes: int,
        trials: int,
        threshold: float,
        *,
        expected: float | None = None,
        expected_source: str = "",
    ) -> Rate:
        r = Rate(name, successes, trials, threshold, "at_most", expected, expected_source)
        self.rates.append(r)
        return r

    def contrast(
        self, name: str, a: Sequence[bool], b: Sequence[bool], threshold: float = 0.05
    ) -> Contrast:
        c = paired_contrast(name, a, b, threshold)
        self.contrasts.append(c)
        return c

    def within(
        self, name: str, measured: float, predicted: float, tol: float, *, relative: bool = False
    ) -> Check:
        c = within(name, measured, predicted, tol, relative=relative)
        self.checks.append(c)
        return c

    def at_most(self, name: str, value: float, bound: float) -> Check:
        c = at_most(name, value, bound)
        self.checks.append(c)
        return c

    def at_least(self, name: str, value: float, bound: float) -> Check:
        c = at_least(name, value, bound)
        self.checks.append(c)
        return c

    def interval_within(
        self, name: str, ci: tuple[float, float], predicted: float, tol: float
    ) -> Check:
        c = interval_within(name, ci, predicted, tol)
        self.checks.append(c)
        return c

    def interval_beyond(
        self, name: str, ci: tuple[float, float], bound: float, side: Literal["above", "below"]
    ) -> Check:
        c = interval_beyond(name, ci, bound, side)
        self.checks.append(c)
        return c

    def exact(self, name: str, failures: int, cases: int, what: str = "cases") -> Check:
        c = exact(name, failures, cases, what)
        self.checks.append(c)
        return c

    def worst_of(self, name: str, checks: Sequence[Check]) -> Check:
        c = worst_of(name, checks)
        self.checks.append(c)
        return c

    def note(self, text: str) -> None:
        """Free text appended to the verdict's reason (e.g. what a quick profile can establish)."""
        self.notes.append(text)

    def _parts(self) -> list[tuple[Status, float, str]]:
        out: list[tuple[Status, float, str]] = []
        out += [(r.status, r.margin, r.describe()) for r in self.rates]
        out += [(c.status, c.margin, c.describe()) for c in self.contrasts]
        out += [(c.status, c.margin, c.describe()) for c in self.checks]
        return out

    @property
    def status(self) -> Status:
        return combine_status(s for s, _, _ in self._parts())

    @property
    def margin(self) -> float | None:
        margins = [m for _, m, _ in self._parts() if not math.isnan(m)]
        return min(margins) if margins else None

    def verdict(
        self,
        predicted: str,
        measured: str,
        numbers: Mapping[str, Any] | None = None,
        *,
        reason: str = "",
    ) -> Verdict:
        """The :class:`~reports.registry.Verdict` of the collected parts."""
        from .registry import Verdict

        parts = self._parts()
        status = self.status
        text = "; ".join(d for _, _, d in parts) or "no part was judged"
        if reason:
            text = f"{reason}. {text}"
        if self.notes:
            text = f"{text}. {' '.join(self.notes)}"
        return Verdict(
            status,
            text,
            predicted,
            measured,
            dict(numbers or {}),
            margin=self.margin,
            rates=tuple(r.as_dict() for r in self.rates),
            contrasts=tuple(c.as_dict() for c in self.contrasts),
            checks=tuple(c.as_dict() for c in self.checks),
        )

"""Calibration of the deflation dynamics tolerances on held-out seeds (docs/math.md §12).

Run from the repository root: ``PYTHONPATH=. python docs/calibrate_deflation_dynamics.py``.
The seeds used here (1000 and up) are disjoint from every judged seed of the claims (0-29); the
values printed are the ones written into the claims' ``tolerance_source``.
"""

from __future__ import annotations

from reports.claims.paper2 import deflation_fit_times as F
from reports.claims.paper2._fit_times import fit_time_analysis


def fit_times() -> None:
    worst = 0.0
    for d, m in ((10, 50), (50, 200), (100, 200)):
        for seed in (1000, 1001, 1002):
            for delta0 in F.FIT_DELTAS:
                cfg = F.FitTimeCase("homogeneous", d, m, delta0, seed)
                an = fit_time_analysis([(cfg, F.experiment(cfg))])
                worst = max(worst, an["worst_reduced"])
                print(
                    f"d={d} m={m} seed={seed} δ0={delta0:g}: 2a|t - t_red| <= "
                    f"{an['worst_reduced']:.4f} (closed form {an['worst_next']:.4f}, "
                    f"{an['rerouted']} re-routed)"
                )
    print(f"fit-times calibration: max 2a_k|t - t_red| = {worst:.4f}")


if __name__ == "__main__":
    fit_times()

"""Small claim files for the ``--load`` tests, each part chosen from a menu of (hostile) behaviours.

:func:`claim_source` writes the text of a claim file in the documented shape (``claim = declare(...)``
and decorators, docs/examples/my_claim.py) whose parts behave as asked: the import itself, the
configs, the negative controls, the experiment, the prediction, the judge and the plot can each
work, raise, call ``sys.exit``, raise another ``BaseException`` or return the wrong thing.
:func:`expected_exit` says, from the behaviours alone (not from the code under test), which exit
code the command line must give for such a file (docs: reports/cli.py, "Exit codes"):

* 2: the file cannot be loaded (its import fails, or its id is refused), or its claim cannot be
  built: configs that are not dataclass instances, or hold an unhashable field (refused before
  any run, naming the claim, the field and the fix);
* 1: the judge says "fails" and the claim's configs and prediction worked (a judge's "fails"
  survives failed runs);
* 3: anything else that broke: a failed run, broken configs/controls/prediction/judge, no runs;
* 0: every part worked and the judge said "holds".

A broken plot never changes the verdict: the report is written with the failure noted.
"""

from __future__ import annotations

from collections.abc import Mapping

# the statement each behaviour puts in the part's body (indented by the caller)
RAISES = {
    "raise": "raise RuntimeError('claim code failed on purpose')",
    "sys.exit(0)": "sys.exit(0)",
    "sys.exit(1)": "sys.exit(1)",
    "SystemExit('text')": "raise SystemExit('stop here')",
    "GeneratorExit": "raise GeneratorExit('generator exit from claim code')",
    "BaseException": "raise BaseException('a bare BaseException')",
}

IMPORT = {"ok": "", **RAISES}

CONFIGS = {
    "ok": "return [Config(seed) for seed in range(N_RUNS)]",
    "empty": "return []",
    "nan-field": "return [Config(seed, scale=float('nan')) for seed in range(N_RUNS)]",
    "not-dataclass": "return [1, 2]",
    "unhashable": "return [Bad([seed]) for seed in range(N_RUNS)]",
    **RAISES,
}

CONTROLS = {"none": "", "ok-empty": "return {}", **RAISES}

EXPERIMENT = {
    "ok": "return {'x': float(config.seed) * config.scale}",
    "nan": "return {'x': float('nan'), 'y': float('inf')}",
    "non-dict": "return [1, 2, 3]",
    "none": "return None",
    "unserialisable": "return {'x': object()}",
    "bad-str": "return {'x': BadStr()}",
    **RAISES,
}

PREDICT = {
    "ok": "return {'x': 'finite'}",
    "nan": "return {'x': float('nan')}",
    "non-dict": "return 42",
    **RAISES,
}

JUDGE = {
    "holds": (
        "ok = [r for r in results if r.ok]\n"
        "return Verdict('holds', f'{len(ok)} ok runs', 'x', f'{len(ok)} runs', margin=1.0)"
    ),
    "fails": "return Verdict('fails', 'the judge says fails', 'x', 'x', margin=-1.0)",
    "no-margin": "return Verdict('holds', 'no margin', 'x', 'x')",
    "nan-margin": "return Verdict('holds', 'nan margin', 'x', 'x', margin=float('nan'))",
    "non-verdict": "return 'holds'",
    "hostile-reason": "return Verdict('holds', BadStr(), 'x', 'x', margin=1.0)",
    "hostile-numbers": "return Verdict('holds', 'r', 'x', 'x', {'n': BadStr()}, margin=1.0)",
    **RAISES,
}

PLOT = {
    "ok": (
        "xs = [r.metrics.get('x') for r in results if r.ok]\n"
        "figure.add_subplot(1, 1, 1).plot(range(len(xs)), xs, 'o')\n"
        "return {'x': xs}"
    ),
    "non-dict": "return [1, 2]",
    "hostile-data": "return {'x': [BadStr()]}",
    **RAISES,
}

PARTS: dict[str, Mapping[str, str]] = {
    "import": IMPORT,
    "configs": CONFIGS,
    "controls": CONTROLS,
    "experiment": EXPERIMENT,
    "predict": PREDICT,
    "judge": JUDGE,
    "plot": PLOT,
}

GOOD = {
    "import": "ok",
    "configs": "ok",
    "controls": "none",
    "experiment": "ok",
    "predict": "ok",
    "judge": "holds",
    "plot": "ok",
}

_TEMPLATE = '''\
"""A generated claim file (tests/reports/claim_files.py)."""
import math
import sys
from dataclasses import dataclass

from reports.registry import Verdict, declare

N_RUNS = 2

claim = declare(
    {cid!r},
    source="extension (generated test claim)",
    statement="a generated claim",
    latex=r"x",
    method="generated",
    tolerance="none",
    tolerance_source="derived: test fixture",
    {no_control}
)


@dataclass(frozen=True)
class Config:
    seed: int
    scale: float = 1.0


@dataclass(frozen=True)
class Bad:
    values: list


class BadStr:
    def __repr__(self):
        raise SystemExit("repr of a metric exits")

    __str__ = __repr__


{import_body}


@claim.configs
def configs(profile):
{configs_body}

{controls}

@claim.experiment
def experiment(config):
{experiment_body}


@claim.predict
def predict(profile):
{predict_body}


@claim.judge
def judge(prediction, results):
{judge_body}


@claim.plot
def plot(prediction, results, figure):
{plot_body}
'''


def _indent(body: str) -> str:
    return "\n".join("    " + line for line in body.splitlines())


def claim_source(cid: str, behaviours: Mapping[str, str] | None = None) -> str:
    """The text of a claim file with id ``cid`` whose parts behave as ``behaviours`` says.

    ``behaviours`` maps a part of :data:`PARTS` to one of its keys; missing parts work (:data:`GOOD`).
    """
    b = {**GOOD, **(behaviours or {})}
    controls = ""
    if b["controls"] != "none":
        controls = f"@claim.controls\ndef controls(profile):\n{_indent(CONTROLS[b['controls']])}\n"
    return _TEMPLATE.format(
        cid=cid,
        no_control="" if controls else 'no_control="a generated claim: nothing to discriminate",',
        import_body=IMPORT[b["import"]],
        configs_body=_indent(CONFIGS[b["configs"]]),
        controls=controls,
        experiment_body=_indent(EXPERIMENT[b["experiment"]]),
        predict_body=_indent(PREDICT[b["predict"]]),
        judge_body=_indent(JUDGE[b["judge"]]),
        plot_body=_indent(PLOT[b["plot"]]),
    )


def expected_exit(behaviours: Mapping[str, str], *, valid_id: bool = True) -> int:
    """The exit code ``overtensor check``/``report`` must give for a file with ``behaviours``."""
    b = {**GOOD, **behaviours}
    if not valid_id or b["import"] != "ok" or b["configs"] in ("not-dataclass", "unhashable"):
        return 2
    setup_ok = (
        b["configs"] in ("ok", "empty", "nan-field")
        and b["controls"] in ("none", "ok-empty")
        and b["predict"] in ("ok", "nan")
    )
    if setup_ok and b["judge"] == "fails":
        return 1
    runs_ok = b["configs"] != "empty" and b["experiment"] in ("ok", "nan")
    if setup_ok and runs_ok and b["judge"] == "holds":
        return 0
    return 3

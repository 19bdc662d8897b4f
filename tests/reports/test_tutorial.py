"""The tutorial cannot rot: its example runs from a folder outside the repository with --load.

docs/writing-a-claim.md quotes docs/examples/my_claim.py; every quoted Python block must be a verbatim
excerpt of the example, and the example must give the verdict the tutorial describes (holds, with its
negative control failing) when run as a user runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports import loading
from tests.reports.test_loading import clean_registry  # noqa: F401 (autouse fixture)

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "writing-a-claim.md"
EXAMPLE = ROOT / "docs" / "examples" / "my_claim.py"
CLAIM_ID = "example.rank-one-fit-time"


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.S)


def test_tutorial_quotes_the_example_verbatim():
    example = EXAMPLE.read_text(encoding="utf-8")
    blocks = _python_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    notebook = [b for b in blocks if b.lstrip().startswith("import reports")]
    excerpts = [b for b in blocks if b not in notebook]
    for block in excerpts:
        assert block.strip() in example, f"tutorial block is not in my_claim.py:\n{block}"
    # the notebook snippet names the example's claim id and the API's functions
    assert notebook and CLAIM_ID in notebook[0]
    assert "reports.check(" in notebook[0] and "reports.report(" in notebook[0]


def test_tutorial_and_example_name_the_same_claim():
    text = TUTORIAL.read_text(encoding="utf-8")
    # the example declares the claim (declare's first argument is the id) ...
    assert re.search(
        rf'^claim = declare\(\s*"{re.escape(CLAIM_ID)}",', EXAMPLE.read_text(encoding="utf-8"), re.M
    )
    # ... and the tutorial quotes that declaration (its blocks are checked verbatim above)
    assert f'claim = declare(\n    "{CLAIM_ID}",' in text
    for command in (
        "overtensor claims --load my_claim.py",
        f"overtensor check {CLAIM_ID} --load my_claim.py",
        f"overtensor report --load my_claim.py --claims {CLAIM_ID} --out report",
    ):
        assert command in text


def test_tutorial_installs_from_the_clone():
    """No package index provides ``overtensor``: the tutorial installs the clone it is read from."""
    text = TUTORIAL.read_text(encoding="utf-8")
    assert "pip install -e ." in text
    assert not re.search(r"pip install\s+overtensor", text)


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory) -> Path:
    """A folder outside the repository holding only the user's file, after `overtensor report`."""
    folder = tmp_path_factory.mktemp("researcher")
    assert ROOT not in folder.resolve().parents
    shutil.copy(EXAMPLE, folder / "my_claim.py")
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # this checkout, whatever is installed
    cmd = [sys.executable, "-m", "reports", "report", "--load", "my_claim.py"]
    cmd += ["--claims", CLAIM_ID, "--out", "report", "--db", "results.sqlite", "--workers", "2"]
    res = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return folder


def test_example_report_from_outside_the_repository(user_folder):
    summary = json.loads((user_folder / "report" / "summary.json").read_text())
    (claim,) = summary["claims"]
    assert claim["id"] == CLAIM_ID and claim["verdict"] == "holds"
    assert claim["runs"] == 40 and claim["runs_failed"] == 0
    assert (user_folder / "report" / "figures" / f"{CLAIM_ID}.png").is_file()
    data = (user_folder / "report" / "data" / f"{CLAIM_ID}.csv").read_text().splitlines()
    assert data[0] == "t_predicted,t_measured" and len(data) == 41
    page = (user_folder / "report" / "index.html").read_text()
    assert f'id="{CLAIM_ID}"' in page and '<div class="math"' in page


def test_example_control_fails_and_verdict_has_a_margin(user_folder, monkeypatch):
    """Same file, same folder, from Python: every run is reused from the CLI's store."""
    import reports

    monkeypatch.chdir(user_folder)
    result = reports.check(CLAIM_ID, load="my_claim.py", db="results.sqlite", workers=1)
    assert result.outcome.n_cached == len(result.outcome.results) == 40
    verdict = result.verdict
    assert verdict.status == "holds" and verdict.margin is not None and verdict.margin >= 0
    (rate,) = verdict.rates
    assert rate["successes"] == 40 and rate["ci95"][0] >= 0.9
    (control,) = verdict.controls
    assert control["name"] == "plain model" and control["verdict"] == "fails"
    assert "0/10" in control["reason"]
    assert loading.module_name_for(user_folder / "my_claim.py") in sys.modules

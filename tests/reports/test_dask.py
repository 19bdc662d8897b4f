"""The Dask executor (issue 24, items 1, 9, 10): a closed local cluster, checked scheduler addresses.

Probes reproduced: the ``LocalCluster`` on 127.0.0.1 accepted any local connection (another process
connected and ran code on the workers) and an HTTP server listened on 127.0.0.1:8787 although the
dashboard was off; ``--scheduler tcp://127.0.0.1:1`` took 30 s and exited 4, malformed addresses
(``garbage``, ``http://...``, ``''``) exited 4 "internal error", and each created a database file; a
``sys.exit(0)`` in an experiment gave a different exit code under Dask than on the local pool.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reports import runner
from reports.registry import REGISTRY
from reports.runner import make_executor
from tests.reports.claim_files import claim_source
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim
from tests.reports.test_loading import clean_registry  # noqa: F401 (fixture)

distributed = pytest.importorskip("dask.distributed")

CLAIM = "fake.ok"


@pytest.fixture(autouse=True)
def fake_claim(monkeypatch):
    monkeypatch.setitem(REGISTRY, CLAIM, make_claim(CLAIM, n=2))


def _listening() -> set[int]:
    """TCP ports in LISTEN state on this machine (Linux /proc)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _http_get(port: int, path: str) -> str:
    """What an HTTP GET on 127.0.0.1:port answers: a status, or why nothing was answered."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
            return f"{resp.status}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"no answer ({type(exc).__name__})"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_local_cluster_uses_tls_and_serves_no_dashboard():
    before = _listening()
    with make_executor("dask", workers=1) as (executor, info):
        opened = _listening() - before
        assert info.address.startswith("tls://127.0.0.1:"), info.address
        assert 8787 not in opened
        # nothing of the cluster answers HTTP with content: no dashboard, no metrics, no info pages
        for port in opened:
            for path in ("/status", "/metrics", "/health", "/info/main/workers.html", "/json/"):
                answer = _http_get(port, path)
                assert answer == "404" or answer.startswith("no answer"), (port, path, answer)
        # a plain TCP client, and a TLS client with a certificate of its own, are refused
        port = info.address.rsplit(":", 1)[1]
        other = distributed.security.Security.temporary()
        for address, security in ((f"tcp://127.0.0.1:{port}", None), (info.address, other)):
            start = time.monotonic()
            with pytest.raises((OSError, TimeoutError)):
                distributed.Client(address, timeout=3, security=security)
            assert time.monotonic() - start < 30
        assert executor.submit(pow, 2, 10).result() == 1024  # the cluster itself works


@pytest.mark.parametrize(
    "address, message",
    [
        ("garbage", "not a Dask scheduler address"),
        ("http://127.0.0.1:8787", "not a Dask scheduler address"),
        ("", "not a Dask scheduler address"),
        ("tcp://127.0.0.1", "not a Dask scheduler address"),
        ("tcp://127.0.0.1:99999", "not a Dask scheduler address"),
        ("tcp://:8786", "not a Dask scheduler address"),
        ("tcp://127.0.0.1:1", "cannot connect"),
    ],
)
def test_bad_scheduler_exits_2_quickly_and_creates_nothing(capsys, tmp_path, address, message):
    db, out = tmp_path / "r.sqlite", tmp_path / "rep"
    start = time.monotonic()
    code, _, err = _main(
        capsys, "report", "--claims", CLAIM, "--executor", "dask", "--scheduler", address,
        "--db", db, "--out", out,
    )  # fmt: skip
    assert code == 2, err
    assert "--scheduler" in err and message in err, err
    assert "Traceback" not in err
    assert time.monotonic() - start < runner.SCHEDULER_TIMEOUT_S + 5
    assert list(tmp_path.iterdir()) == []  # no database, no report, no temporary folder


def test_unreachable_scheduler_in_the_api_creates_no_database(monkeypatch, tmp_path):
    import reports

    monkeypatch.setattr(runner, "SCHEDULER_TIMEOUT_S", 2.0)
    with pytest.raises(ValueError, match="cannot connect"):
        with make_executor("dask", scheduler="tcp://127.0.0.1:1"):
            pass  # pragma: no cover - never reached
    with pytest.raises(ValueError, match="cannot connect"):
        reports.report(
            [CLAIM], out=tmp_path / "rep", db=tmp_path / "r.sqlite", executor="dask",
            scheduler="tcp://127.0.0.1:1",
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_experiment_exit_is_a_failed_run_under_dask_too(capsys, tmp_path):
    """Item 1 on Dask: ``sys.exit(0)`` in an experiment gives exit 3, as on the local pool."""
    f = tmp_path / "exits.py"
    f.write_text(claim_source("x.dask-exit", {"experiment": "sys.exit(0)"}))
    codes = {}
    for executor in ("local", "dask"):
        code, _, err = _main(
            capsys, "report", "--load", f, "--claims", "x.dask-exit", "--executor", executor,
            "--workers", "1", "--db", tmp_path / f"{executor}.sqlite", "--out", tmp_path / executor,
        )  # fmt: skip
        codes[executor] = code
        summary = json.loads((tmp_path / executor / "summary.json").read_text())
        assert summary["claims"][0]["runs_failed"] == 2, err
    assert codes == {"local": 3, "dask": 3}

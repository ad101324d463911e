"""What the command line hands to the run layer: ``auditor run``'s options checked in order and turned into
a run's options, its stderr lines and exit code, the signals that stop it; ``validate``, ``facts``,
``controls evidence`` and ``report`` without a host contacted. Pure logic: nothing is audited."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from auditor.attestations_check import attestations_text, verdicts_exit_code
from auditor.catalog import controls_view, load_catalog
from auditor.distributed.startup import DistributedRun, distributed_settings, segments_line
from auditor.drift_notices import NoticeOptions, notify_from_diff
from auditor.errors import InputError
from auditor.host_facts import host_facts
from auditor.input_check import check_inputs
from auditor.rerender import stored_results
from auditor.run import RunResult
from auditor.start import RunRequest, audit_options, history_url, problems_said, start, stop_on_signals


@pytest.fixture(autouse=True)
def no_store_or_broker_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AUDITOR_DB", "AUDITOR_BROKER"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"output": " "}, "--output: an empty folder name (leave the option out for reports/<time>/)"),
        ({"output": "o", "output_root": "r"}, "--output-root: --output and --output-root: give one"),
        ({"lock": "-x"}, "--lock: '-x' is not a lock or schedule name"),
    ],
)
def test_bad_output_or_lock_options_are_bad_input(changes: dict[str, str], said: str) -> None:
    with pytest.raises(InputError) as caught:
        audit_options(RunRequest(**changes))  # type: ignore[arg-type]
    assert str(caught.value).startswith(said) and caught.value.exit_code == 2


def test_the_run_options_are_the_ones_given() -> None:
    options = audit_options(RunRequest(output="out", jobs=3, lang="en", lock="nightly", waivers="w.yaml"))
    assert (options.output, options.output_root, options.jobs, options.lang) == (Path("out"), None, 3, "en")
    assert (options.lock, options.waivers, options.history) == ("nightly", "w.yaml", None)
    assert audit_options(RunRequest(output_root="runs")).output_root == Path("runs")


def test_the_history_store_is_the_option_then_the_distributed_credentials(tmp_path: Path) -> None:
    from auditor.distributed.startup import DistributedSettings

    from_credentials = DistributedSettings("redis://b", "sqlite:///cred.db")
    assert history_url(RunRequest(no_history=True, db="sqlite:///x.db"), from_credentials) is None
    assert history_url(RunRequest(db="sqlite:///x.db"), from_credentials) == "sqlite:///x.db"
    assert history_url(RunRequest(), from_credentials) == "sqlite:///cred.db"
    assert history_url(RunRequest(), None).endswith("history.db")


def test_options_are_checked_in_the_order_a_user_meets_them() -> None:
    """Several bad options: the distributed ones are named first, then the output, then the notices."""
    bad_everything = RunRequest(
        output=" ",
        notices=NoticeOptions(smtp_host="mail.example"),
        distributed=DistributedRun(broker="redis://b"),
    )
    with pytest.raises(InputError, match="--broker: only with --distributed"):
        start(bad_everything)
    bad_everything.distributed = DistributedRun()
    with pytest.raises(InputError, match="--output: an empty folder name"):
        start(bad_everything)
    bad_everything.output = None
    with pytest.raises(InputError, match="--notify-email: mail server options without"):
        start(bad_everything)
    with pytest.raises(InputError, match="KEY=VALUE"):
        start(RunRequest(params=("no-equals-sign",)))


def test_a_distributed_run_needs_a_broker_and_a_local_one_none() -> None:
    assert distributed_settings(DistributedRun()) is None
    with pytest.raises(InputError, match="--credentials: only with --distributed"):
        distributed_settings(DistributedRun(credentials="c.yaml"))
    with pytest.raises(InputError, match="a distributed run needs a broker"):
        distributed_settings(DistributedRun(distributed=True))
    settings = distributed_settings(DistributedRun(distributed=True, broker="redis://127.0.0.1:6379/0", shard_size=7))
    assert settings is not None and settings.broker == "redis://127.0.0.1:6379/0" and settings.db is None
    assert settings.sizes == {"shard_size": 7, "segment_timeout": 300.0, "visibility_timeout": 3600.0}


def test_segment_progress_is_one_line() -> None:
    assert (
        segments_line({"hq": (1, 3), "branch": (0, 2)}) == "segment hq: 1/3 hosts done · segment branch: 0/2 hosts done"
    )


def _result(**changes: object) -> RunResult:
    return RunResult({}, Path("reports/r1"), 0, [], False, **changes)  # type: ignore[arg-type]


def test_what_failed_while_writing_is_said_on_stderr() -> None:
    assert problems_said(_result()) == []
    assert problems_said(_result(problem="disk full", history_problem="history store: locked")) == [
        "error: disk full",
        "error: history store: locked (its files are in reports/r1)",
    ]


def test_a_signal_stops_the_run_once_then_stops_the_waiting() -> None:
    said: list[bool] = []
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(said.append) as cancel:
        os.kill(os.getpid(), signal.SIGTERM)
        assert cancel.stop.is_set() and not cancel.force.is_set() and cancel.reason == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)
        assert cancel.force.is_set() and cancel.reason == "SIGTERM"
    assert said == [True, False]
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_notify_needs_something_to_send_with(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing to send with"):
        notify_from_diff(str(tmp_path / "diff.json"), NoticeOptions())
    (tmp_path / "diff.json").write_text("{")
    with pytest.raises(InputError, match=r"diff.json: not JSON"):
        notify_from_diff(str(tmp_path / "diff.json"), NoticeOptions(command="/bin/true"))
    (tmp_path / "diff.json").write_text('{"changes": []}')
    sent = notify_from_diff(str(tmp_path / "diff.json"), NoticeOptions(command="/bin/true"))
    assert sent.exit_code == 0 and sent.messages == [
        "drift notice: no new failure, error or host-key change since the last run; nothing sent"
    ]


def test_validate_lists_what_it_read_and_ends_with_ok() -> None:
    lines = check_inputs(None, "baseline", (), None)
    assert lines[0].startswith("catalog: ") and lines[1].startswith("playbook baseline: ") and lines[-1] == "ok"
    with pytest.raises(InputError):
        check_inputs(None, "no-such-playbook", (), None)


def test_facts_of_a_host_the_inventory_does_not_have_is_bad_input_before_any_contact() -> None:
    with pytest.raises(InputError, match=r"no host 'elsewhere' in the inventory \(known: "):
        host_facts("elsewhere", None, "baseline", (), None, False, 1.0, 1)


@pytest.mark.parametrize(
    ("statuses", "code"),
    [([], 0), (["pass", "manual"], 0), (["pass", "fail"], 1), (["fail", "error"], 3), (["error"], 3)],
)
def test_the_worst_attestation_verdict_is_the_exit_code(statuses: list[str], code: int) -> None:
    assert verdicts_exit_code(statuses) == code


def test_attestations_as_text_leave_the_manual_ones_to_the_counts() -> None:
    section = {
        "results": [
            {"status": "pass", "requirement": "A.5.1", "reason": "signed 2026-01-02"},
            {"status": "manual", "requirement": "A.5.2", "reason": "no attestation"},
        ],
        "counts": {"pass": 1, "manual": 1},
    }
    assert attestations_text(section) == [f"{'pass':<7} {'A.5.1':<24} signed 2026-01-02", "manual: 1, pass: 1"]


def test_an_unknown_catalog_id_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"'A\.99\.9' is no control, plan task, check or document of the catalog"):
        controls_view.show(load_catalog(), "A.99.9")


def test_a_stored_results_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text("{")
    with pytest.raises(InputError, match=f"^{path}: Expecting property name"):
        stored_results(str(path))
    path.write_text('{"schema": "auditor.results/1"}')
    with pytest.raises(InputError, match=f"^{path} does not follow "):
        stored_results(str(path))

"""A mistake on a command line is one line naming it, exit status 2, never a traceback."""

from __future__ import annotations

import pytest

from orchestration import backfill, checks
from orchestration.anomalies import cli as detect
from orchestration.connectors import export_cli
from orchestration.distribution import cli as distribution
from orchestration.rca import cli as rca
from orchestration.reporting import __main__ as reporting
from orchestration.simulator import cli as simulator

MISTAKES = [
    (
        backfill.main,
        ["--from", "2026-11-9", "--to", "2026-11-10"],
        "'2026-11-9' is not a day written YYYY-MM-DD",
    ),
    (
        backfill.main,
        ["--from", "2026-11-12", "--to", "2026-11-10"],
        "--from 2026-11-12 is after --to 2026-11-10",
    ),
    (
        checks.main,
        ["--from", "2026-02-30", "--to", "2026-03-01"],
        "'2026-02-30' is not a day of the calendar",
    ),
    (export_cli.main, ["--from", "11/09/2026", "--to", "2026-11-10", "--out", "x"], "is not a day written"),
    (reporting.main, ["--day", "2026-11-09", "--role", "boss"], "unknown role 'boss'; one of: director"),
    (reporting.main, ["--day", "2026-11-09", "--handover", "midnight"], "unknown shift 'midnight'; one of:"),
    (distribution.main, ["--day", "yesterday"], "'yesterday' is not a day written YYYY-MM-DD"),
    (distribution.main, ["--day", "2026-11-09", "--role", "ceo"], "unknown role 'ceo'"),
    (rca.main, ["open", "--day", "2026-13-01"], "is not a day of the calendar"),
    (simulator.main, ["--scenario", "x.yaml", "--start", "9.11.2026", "--out", "x"], "is not a day written"),
    (detect.main, ["data.csv", "--time-col", "ts"], "the following arguments are required: --value-cols"),
]


@pytest.mark.parametrize(("main", "argv", "said"), MISTAKES)
def test_a_mistake_is_one_line_and_exit_status_2(main, argv, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.endswith("(see --help)\n") and said in error

"""The genealogy's command line on the tiny plant: the traces a quality engineer acts on, the exports, and
one-line mistakes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orchestration.genealogy import model as m
from orchestration.genealogy.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "data" / "scenarios" / "test_small.yaml"
DAY = "2026-11-10"
BAD_COIL, BAD_SEGMENT = "B20261110-0003-A1", 7
CASE = "B20261110-0003"


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    scenario = tmp_path_factory.mktemp("genealogy_cli") / "bad_segment.yaml"
    scenario.write_text(
        f"base: {TINY}\n"
        f"genealogy: {{bad_segment: {{coil: {BAD_COIL}, segment: {BAD_SEGMENT}, "
        "thickness_shift_um: -4.0}}\n"
    )
    return scenario


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_forward_from_a_planted_thin_segment_lists_exactly_its_cells_with_their_lower_capacity(
    capsys, planted
):
    code, out, err = run(
        capsys, "trace", "--scenario", str(planted), "--day", DAY, "--forward", f"{CASE}-A", "--json"
    )
    assert code == 0 and not err
    batch = {row["cell_id"]: row for row in json.loads(out)["rows"]}
    truth = {m.cell_id(CASE, k) for k in m.numbers_cut_from(0, BAD_SEGMENT, 1000)} & set(batch)
    assert len(truth) >= 20

    segment = m.segment_id(BAD_COIL, BAD_SEGMENT)
    code, out, _ = run(
        capsys, "trace", "--scenario", str(planted), "--day", DAY, "--forward", segment, "--json"
    )
    found = {row["cell_id"]: row for row in json.loads(out)["rows"]}
    assert code == 0
    assert len(found.keys() & truth) / len(found) == 1.0  # precision
    assert len(found.keys() & truth) / len(truth) == 1.0  # recall
    assert {row["status"] for row in found.values()} <= {m.STATUS_SCRAPPED, m.GRADED, m.STATUS_PACKED}
    thin = [row["capacity_ah"] for row in found.values()]
    rest = [r["capacity_ah"] for c, r in batch.items() if c not in truth and r["capacity_ah"] is not None]
    assert sum(rest) / len(rest) - sum(thin) / len(thin) > 1.0  # 3 % less active material, ~2 Ah of 61


def test_trace_backward_prints_a_cells_rolls_segments_coils_slurries_channel_machines_and_crews(capsys):
    cell = m.cell_id(CASE, 180)
    code, out, err = run(capsys, "trace", "--scenario", str(TINY), "--day", DAY, "--backward", cell)
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0] == f"backward from cell {cell} on {DAY}:"
    by_id = {line.split()[0]: line for line in lines[3:]}
    coil, segment, lane, section = m.position(180, 1000)
    for electrode in m.ELECTRODES:
        coil_id = m.coil_id(CASE, electrode, coil)
        assert m.slurry_id(CASE, electrode) in by_id
        assert coil_id in by_id
        assert m.segment_id(coil_id, segment) in by_id
        assert m.roll_id(coil_id, lane, section) in by_id
    types = [line.split()[1:3] for line in lines[3:]]
    assert types.count(m.CHANNEL.split()) == 1
    assert any(kind[0] == "crew" for kind in types)
    assert any(line.split()[0] == "STACK-01" for line in lines[3:])


def test_export_writes_an_ocel_2_sqlite_file_with_every_event_and_object(capsys, tmp_path):
    small_batches = tmp_path / "small_batches.yaml"  # 100-cell batches: a file written in a blink
    small_batches.write_text(f"base: {TINY}\nbatch_size_cells: 100\nrelease: {{batches_per_day: 15}}\n")
    out_file = tmp_path / "day.sqlite"
    code, out, err = run(
        capsys,
        "export",
        "--scenario",
        str(small_batches),
        "--day",
        DAY,
        "--format",
        "sqlite",
        "--out",
        str(out_file),
    )
    assert code == 0 and not err and out.startswith(str(out_file))
    counts = dict(part.rsplit(" ", 1) for part in out.split("; ")[1].strip().split(", "))
    with sqlite3.connect(out_file) as db:
        assert db.execute("SELECT count(*) FROM event").fetchone()[0] == int(counts["event"])
        assert db.execute("SELECT count(*) FROM object").fetchone()[0] == int(counts["object"])
        types = {row[0] for row in db.execute("SELECT DISTINCT ocel_type FROM object")}
    assert {m.CELL, m.SLURRY, m.COIL, m.SEGMENT, m.ROLL} <= types


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "--day", DAY, "--forward", "B20261110-0003-A9"], "no object 'B20261110-0003-A9'"),
        (["trace", "--day", DAY, "--backward", "MIX-01"], "MIX-01 is a machine; --backward takes a cell"),
        (["trace", "--day", DAY, "--forward", "B20261110-0003-0180"], "is a cell; --forward takes"),
    ],
)
def test_an_unknown_or_wrong_object_is_one_line_on_stderr_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv, "--scenario", str(TINY))
    assert code == 2 and not out
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "--day", "10.11.2026", "--forward", "X"], "is not a day written YYYY-MM-DD"),
        (
            ["trace", "--day", DAY, "--forward", "X", "--scenario", "data/scenarios/nope.yaml"],
            "does not exist",
        ),
        (["export", "--day", DAY, "--format", "xml", "--out", "x"], "invalid choice: 'xml'"),
    ],
)
def test_a_mistake_in_the_arguments_is_one_line_on_stderr_and_exit_2(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own errors exit from parse_args
        code = exit.code
    out, err = capsys.readouterr()
    assert code == 2 and not out
    assert err.count("\n") == 1 and message in err and "Traceback" not in err

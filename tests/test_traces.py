"""Tests of eda_sim.traces: reading recorded arrivals from CSV files, and the Trace object."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from eda_sim.errors import ScenarioError
from eda_sim.traces import MAX_TRACE_FAULTS, Trace, read_trace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "data" / "events.csv"


def write(tmp_path: Path, text: str | bytes, name: str = "events.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def trace_error(path: Path | str, **columns: str) -> ScenarioError:
    """Read a bad trace; check the faults' common form; return the error."""
    with pytest.raises(ScenarioError) as info:
        read_trace(path, **columns)
    error = info.value
    assert 1 <= len(error.faults) <= MAX_TRACE_FAULTS + 1
    for fault in error.faults:
        assert fault.path == "file"
        assert fault.message.startswith(str(path))
        assert "\n" not in fault.message
    return error


def one_fault(path: Path | str, **columns: str) -> str:
    """The single fault's message of a bad trace."""
    error = trace_error(path, **columns)
    assert len(error.faults) == 1, str(error)
    return error.faults[0].message


# --------------------------------------------------------------------------- reading


def test_numbers_are_made_relative_to_the_first_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path, "time\n100.5\n101\n103.25\n110\n")
    trace = read_trace(path)
    assert trace.times.tolist() == [0.0, 0.5, 2.75, 9.5]
    assert trace.times.dtype == np.float64
    assert trace.origin == 100.5
    assert trace.types is None
    assert trace.types_present == ()
    assert trace.source == str(path)
    assert read_trace(str(path)) == trace


def test_times_are_read_only_and_the_trace_is_frozen(tmp_path: Path) -> None:
    trace = read_trace(write(tmp_path, "t\n0\n1\n"))
    with pytest.raises(ValueError, match="read-only"):
        trace.times[0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.origin = 3.0  # type: ignore[misc]


def test_iso_timestamps_with_z_and_with_offsets_give_the_same_seconds(tmp_path: Path) -> None:
    zulu = write(
        tmp_path,
        "timestamp\n2026-11-02T09:00:00Z\n2026-11-02T09:00:01.250Z\n2026-11-02T10:00:00z\n",
        "zulu.csv",
    )
    offsets = write(
        tmp_path,
        "timestamp\n"
        "2026-11-02T10:00:00+01:00\n"  # 09:00:00 UTC
        "2026-11-02T04:00:01.250-05:00\n"  # 09:00:01.25 UTC
        "2026-11-02T10:00:00+00:00\n",
        "offsets.csv",
    )
    expected = [0.0, 1.25, 3600.0]
    assert read_trace(zulu).times.tolist() == expected
    assert read_trace(offsets).times.tolist() == expected
    assert read_trace(zulu).origin == "2026-11-02T09:00:00Z"
    assert read_trace(offsets).origin == "2026-11-02T10:00:00+01:00"


def test_offsets_are_compared_in_utc_when_checking_the_order(tmp_path: Path) -> None:
    # 09:30+01:00 is 08:30 UTC, before 09:00Z, although it reads later.
    path = write(tmp_path, "ts\n2026-11-02T09:00:00Z\n2026-11-02T09:30:00+01:00\n")
    message = one_fault(path)
    assert message.endswith("line 3: earlier than line 2; the trace must be sorted by time")


def test_naive_iso_timestamps_and_microseconds(tmp_path: Path) -> None:
    path = write(tmp_path, "time\n2026-11-02 23:59:59.999999\n2026-11-03T00:00:00\n2026-11-03\n")
    trace = read_trace(path)
    assert trace.times.tolist() == pytest.approx([0.0, 1e-6, 1e-6], abs=1e-12)
    assert trace.times[1] == trace.times[2]  # a date alone is midnight: a tie, allowed
    assert trace.origin == "2026-11-02 23:59:59.999999"


def test_byte_order_mark_blank_lines_spaces_and_extra_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffid, Time ,note\n\n1, 2.0 ,x\n ,,\n2,3.5,y,extra\n\n")
    assert read_trace(path).times.tolist() == [0.0, 1.5]


def test_ties_are_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "t\n1\n1\n1\n2\n2\n")
    trace = read_trace(path)
    assert trace.times.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert trace.gaps.tolist() == [0.0, 0.0, 1.0, 0.0]


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize("name", ["time", "TIMESTAMP", "Ts", "t"])
def test_the_timestamp_column_is_found_by_its_header(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"id,{name},value\n7,10,99\n8,12,1\n")
    assert read_trace(path).times.tolist() == [0.0, 2.0]


def test_the_first_known_timestamp_header_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "id,ts,time\n1,5,100\n2,6,300\n")
    assert read_trace(path).times.tolist() == [0.0, 1.0]


def test_without_a_known_header_the_first_column_holds_the_timestamps(tmp_path: Path) -> None:
    path = write(tmp_path, "when,what\n3,a\n4,b\n")
    trace = read_trace(path)
    assert trace.times.tolist() == [0.0, 1.0]
    assert trace.types is None  # "what" is not a type header


@pytest.mark.parametrize("name", ["type", "Event_Type", "EVENT"])
def test_the_type_column_is_found_by_its_header(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"timestamp,{name}\n0,a\n1,b\n2,a\n")
    trace = read_trace(path)
    assert trace.types == ("a", "b", "a")
    assert trace.types_present == ("a", "b")


def test_a_type_header_in_the_timestamp_column_is_not_also_the_type_column(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "type,note\n0,a\n1,b\n")
    trace = read_trace(path)
    assert trace.times.tolist() == [0.0, 1.0]
    assert trace.types is None


def test_explicit_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "time,arrived,kind,type\n7,100,x,p\n8,101,y,q\n10,104,x,r\n")
    trace = read_trace(path, time_column="arrived", type_column="kind")
    assert trace.times.tolist() == [0.0, 1.0, 4.0]
    assert trace.types == ("x", "y", "x")
    # matched without regard to case; the other one still found by its header
    assert read_trace(path, time_column="ARRIVED").types == ("p", "q", "r")
    assert read_trace(path, type_column="Kind").times.tolist() == [0.0, 1.0, 3.0]


# --------------------------------------------------------------------------- Trace


def test_rate_gaps_and_scv_against_hand_computations() -> None:
    trace = Trace(np.array([0.0, 1.0, 3.0, 6.0]))
    assert trace.count == len(trace) == 4
    assert trace.span == 6.0
    assert trace.gaps.tolist() == [1.0, 2.0, 3.0]
    assert trace.rate == pytest.approx(3 / 6)  # (count - 1) / span = 1 / mean gap
    # gaps 1, 2, 3: mean 2, population variance (1 + 0 + 1) / 3, scv = (2/3) / 4
    assert trace.scv == pytest.approx(1 / 6)


def test_rate_gaps_and_scv_of_a_file(tmp_path: Path) -> None:
    trace = read_trace(write(tmp_path, "t\n10\n10.5\n12\n12\n14.5\n"))
    gaps = [0.5, 1.5, 0.0, 2.5]
    assert trace.gaps.tolist() == gaps
    assert trace.span == 4.5
    assert trace.rate == pytest.approx(4 / 4.5)
    mean = sum(gaps) / 4
    assert trace.scv == pytest.approx(sum((g - mean) ** 2 for g in gaps) / 4 / mean**2)


def test_degenerate_rate_and_scv_are_nan() -> None:
    single = Trace(np.array([2.0]))
    assert single.span == 0.0
    assert math.isnan(single.rate)
    assert math.isnan(single.scv)
    assert single.gaps.size == 0
    assert math.isnan(Trace(np.array([1.0, 1.0])).scv)
    assert Trace(np.array([0.0, 2.0, 4.0])).scv == 0.0  # regular arrivals


def test_select_keeps_the_original_origin(tmp_path: Path) -> None:
    path = write(tmp_path, "ts,type\n100,add\n101,order\n103,add\n106,order\n110,order\n")
    trace = read_trace(path)
    orders = trace.select("order")
    assert orders.times.tolist() == [1.0, 6.0, 10.0]  # not re-zeroed
    assert orders.types == ("order",) * 3
    assert orders.types_present == ("order",)
    assert orders.origin == trace.origin == 100.0
    assert orders.source == trace.source
    assert orders.span == 9.0
    assert orders.rate == pytest.approx(2 / 9)
    assert orders.gaps.tolist() == [5.0, 4.0]
    assert trace.select("add").times.tolist() == [0.0, 3.0]


def test_select_an_absent_type_or_without_types(tmp_path: Path) -> None:
    path = write(tmp_path, "ts,type\n0,add\n1,order\n")
    with pytest.raises(ScenarioError) as info:
        read_trace(path).select("cancel")
    (fault,) = info.value.faults
    assert fault.path == "event_type"
    assert "'cancel'" in fault.message
    assert "2 other event types" in fault.message
    assert "'add'" not in fault.message  # the file's content is not quoted
    assert str(path) in fault.message
    with pytest.raises(ScenarioError, match="no event-type column"):
        read_trace(write(tmp_path, "ts\n0\n1\n", "plain.csv")).select("add")


def test_trace_equality_hash_and_repr() -> None:
    a = Trace(np.array([0.0, 1.0]), ("x", "y"), origin="2026-11-02T09:00:00Z", source="f.csv")
    b = Trace(np.array([0.0, 1.0]), ("x", "y"), origin="2026-11-02T09:00:00Z", source="f.csv")
    assert a == b
    assert hash(a) == hash(b)
    assert a != Trace(np.array([0.0, 2.0]), ("x", "y"), origin="2026-11-02T09:00:00Z")
    assert a != "a trace"
    text = repr(a)
    assert "count=2" in text and "'x', 'y'" in text and "f.csv" in text


def test_trace_copies_its_times() -> None:
    times = np.array([0.0, 1.0])
    trace = Trace(times)
    times[1] = 5.0
    assert trace.times.tolist() == [0.0, 1.0]
    assert not trace.times.flags.writeable


@pytest.mark.parametrize(
    ("times", "types", "fragment"),
    [
        (np.array([]), None, "non-empty 1-D"),
        (np.zeros((2, 2)), None, "non-empty 1-D"),
        (np.array([0.0, math.nan]), None, "finite"),
        (np.array([-1.0, 0.0]), None, ">= 0"),
        (np.array([0.0, 2.0, 1.0]), None, "entry 2 (1.0) is earlier than entry 1 (2.0)"),
        (np.array([0.0, 1.0]), ("a",), "one type per time"),
        (np.array([0.0, 1.0]), ("a", ""), "non-empty strings"),
    ],
)
def test_trace_checks_its_fields(
    times: np.ndarray, types: tuple[str, ...] | None, fragment: str
) -> None:
    with pytest.raises(ScenarioError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Trace(times, types)


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    assert one_fault(path) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert "is a folder, not a regular file" in one_fault(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    assert "not a UTF-8 text file" in one_fault(write(tmp_path, b"t\n1\n\xff\xfe\n"))


def test_not_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "t\n1\n" + "9" * 200_000 + "\n")  # above csv's field size limit
    assert "not a readable CSV file" in one_fault(path)


@pytest.mark.parametrize("text", ["", "\n\n", " , \n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    assert "the file is empty" in one_fault(write(tmp_path, text))


def test_header_only(tmp_path: Path) -> None:
    message = one_fault(write(tmp_path, "timestamp,type\n\n"))
    assert "no events, only the header row (line 1)" in message


def test_a_first_row_of_data_is_not_taken_for_a_header(tmp_path: Path) -> None:
    message = one_fault(write(tmp_path, "0.5,add\n1.5,add\n2.0,add\n"))
    assert "line 1:" in message
    assert "header" in message


@pytest.mark.parametrize("option", ["time_column", "type_column"])
def test_unknown_column_lists_the_columns(tmp_path: Path, option: str) -> None:
    path = write(tmp_path, "timestamp,type\n0,a\n1,b\n")
    message = one_fault(path, **{option: "when"})
    assert f"no column 'when' ({option}) in the header row (line 1, 2 columns)" in message
    assert "'timestamp'" not in message  # the file's content is not quoted


def test_both_columns_unknown_are_two_faults(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,type\n0,a\n1,b\n")
    error = trace_error(path, time_column="when", type_column="what")
    assert len(error.faults) == 2


def test_type_column_may_not_be_the_timestamp_column(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp,type\n0,a\n1,b\n")
    assert "also the timestamp column" in one_fault(path, type_column="timestamp")


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("abc", "not a timestamp; expected a number or an ISO-8601 date-time"),
        ("2026-13-02T09:00:00Z", "not a timestamp; expected a number or an ISO-8601"),
        ("12:00", "not a timestamp"),
        ("-0.5", "a negative number; a timestamp must be >= 0"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("-Infinity", "not a finite number"),
    ],
)
def test_a_bad_timestamp_names_the_line_and_the_cell(
    tmp_path: Path, cell: str, fragment: str
) -> None:
    path = write(tmp_path, f"id,ts\n1,0\n2,1\n3,{cell}\n4,2\n")
    message = one_fault(path)
    assert message.startswith(f"{path}, line 4: column 'ts': ")
    assert fragment in message
    assert cell not in message.removeprefix(str(path))  # the cell is not quoted


def test_empty_or_missing_timestamp_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "type,ts\na,0\nb,\nc\nd,3\n")
    error = trace_error(path)
    messages = [fault.message for fault in error.faults]
    assert len(messages) == 2
    assert f"{path}, line 3: column 'ts': empty timestamp" in messages[0]
    assert f"{path}, line 4: column 'ts': empty timestamp" in messages[1]
    assert "a number or an ISO-8601 date-time" in messages[0]


def test_unsorted_trace_names_both_lines_and_values(tmp_path: Path) -> None:
    path = write(tmp_path, "time\n1.0\n2.0\n5.0\n9.0\n13.0\n13.0\n12.5\n14\n")
    assert (
        one_fault(path) == f"{path}, line 8: earlier than line 7; the trace must be sorted by time"
    )


def test_unsorted_iso_trace(tmp_path: Path) -> None:
    path = write(tmp_path, "timestamp\n2026-11-02T09:00:05Z\n2026-11-02T09:00:04.999Z\n")
    message = one_fault(path)
    assert message.endswith("line 3: earlier than line 2; the trace must be sorted by time")


def test_numbers_mixed_with_date_times_flag_the_odd_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ts\n5\n2026-11-02T09:00:00Z\n2026-11-02T09:00:01Z\n2026-11-02T09:00:02Z\n",
    )
    message = one_fault(path)  # the one number is odd, not the three date-times
    assert message.startswith(f"{path}, line 2: column 'ts': a number, but line 3 is a date-time")
    assert "all numbers" in message


def test_date_times_with_and_without_offset_are_not_mixed(tmp_path: Path) -> None:
    path = write(tmp_path, "ts\n2026-11-02T09:00:00\n2026-11-02T09:00:01Z\n2026-11-02T09:00:02\n")
    message = one_fault(path)
    assert f"{path}, line 3: column 'ts': a date-time with a UTC offset, but line 2" in message
    assert "without a UTC offset" in message


def test_empty_type_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "ts,type\n0,a\n1,\n2\n3,b\n")
    messages = [fault.message for fault in trace_error(path).faults]
    assert messages == [
        f"{path}, line 3: column 'type': empty event type",
        f"{path}, line 4: column 'type': empty event type",
    ]


def test_several_problems_on_one_line_are_one_fault(tmp_path: Path) -> None:
    path = write(tmp_path, "ts,type\n0,a\nxyz,\n2,b\n")
    message = one_fault(path)
    assert message.startswith(f"{path}, line 3: column 'ts': not a timestamp")
    assert "; column 'type': empty event type" in message


def test_faults_are_listed_in_line_order_and_capped(tmp_path: Path) -> None:
    bad = "\n".join(f"x{i}" for i in range(15))
    path = write(tmp_path, f"t\n5\n4\n{bad}\n")  # line 3 unsorted, lines 4-18 unparsable
    error = trace_error(path)
    assert len(error.faults) == MAX_TRACE_FAULTS + 1
    assert "line 3: earlier than line 2" in error.faults[0].message
    lines = [int(f.message.split(", line ")[1].split(":")[0]) for f in error.faults[:-1]]
    assert lines == list(range(3, 3 + MAX_TRACE_FAULTS))
    assert error.faults[-1].message == f"{path}: and 6 more bad lines"


def test_exactly_the_cap_has_no_and_more(tmp_path: Path) -> None:
    bad = "\n".join("x" for _ in range(MAX_TRACE_FAULTS))
    error = trace_error(write(tmp_path, f"t\n1\n{bad}\n2\n"))
    assert len(error.faults) == MAX_TRACE_FAULTS
    assert "more bad lines" not in str(error)


def test_a_single_event_is_not_a_trace(tmp_path: Path) -> None:
    message = one_fault(write(tmp_path, "t,type\n4.5,a\n"))
    assert "only 1 event (line 2)" in message
    assert "at least 2 events" in message


def test_events_all_at_one_time_are_not_a_trace(tmp_path: Path) -> None:
    message = one_fault(write(tmp_path, "t\n3\n3\n3\n"))
    assert "all 3 events are at the same time" in message


# --------------------------------------------------------------------------- the example file


def test_the_example_trace() -> None:
    assert EXAMPLE.stat().st_size < 80_000
    trace = read_trace(EXAMPLE)
    assert trace.types_present == (
        "add_to_cart",
        "cancel_order",
        "create_order",
        "remove_from_cart",
    )
    assert isinstance(trace.origin, str) and trace.origin.startswith("2026-11-02T09:00:")
    assert 1_500 <= trace.count <= 2_500
    assert 950 <= trace.span <= 1_000
    assert trace.rate == pytest.approx(trace.count / trace.span, rel=1e-2)
    assert trace.scv > 1.1  # bursty: gaps more variable than a Poisson stream's
    shares = {kind: trace.select(kind).count / trace.count for kind in trace.types_present}
    expected = {
        "add_to_cart": 0.60,
        "remove_from_cart": 0.15,
        "create_order": 0.20,
        "cancel_order": 0.05,
    }
    for kind, share in expected.items():
        assert shares[kind] == pytest.approx(share, abs=0.03)
    assert sum(trace.select(kind).count for kind in trace.types_present) == trace.count


# --------------------------------------------------------------------------- long files


def test_faults_late_in_a_long_trace_are_found_as_early_ones_are(tmp_path: Path) -> None:
    """Past the first rows the common row takes a short path; every fault still shows."""
    rows = [f"{i},a" for i in range(40)]
    rows[25] = "23.5,a"  # line 27, earlier than line 26 (24)
    rows[26] = "26,"  # empty type
    rows[30] = "nan,a"
    rows[33] = "2026-11-02T09:00:00Z,a"  # a date-time among numbers
    path = write(tmp_path, "t,type\n" + "\n".join(rows) + "\n")
    messages = [fault.message.removeprefix(f"{path}, ") for fault in trace_error(path).faults]
    assert messages == [
        "line 27: earlier than line 26; the trace must be sorted by time",
        "line 28: column 'type': empty event type",
        "line 32: column 't': not a finite number; a timestamp must be finite",
        "line 35: column 't': a date-time with a UTC offset, but line 2 is a number; the "
        "timestamps must be all numbers, or all date-times with a UTC offset, or all "
        "date-times without",
    ]


def test_a_long_clean_trace_reads_as_the_row_by_row_path_would() -> None:
    lines = [f"{0.5 * i},{'ab'[i % 2]}" for i in range(1000)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_text("time,type\n" + "\n".join(lines) + "\n")
        trace = read_trace(path)
    assert trace.times.tolist() == [0.5 * i for i in range(1000)]
    assert trace.types == tuple("ab"[i % 2] for i in range(1000))

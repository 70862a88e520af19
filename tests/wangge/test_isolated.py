"""Work in a child process: results and domain errors come back intact; the child is stopped
after the time limit or when the caller gives up; the heap can be trimmed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from wangge.geo.errors import CRSError, TooLarge, ValidationFailed
from wangge.isolated import Abandoned, ChildFailed, run_isolated, trim_heap


def _refuse(n: int) -> None:
    raise ValidationFailed("有错误。", "There are errors.", report={"error_count": n}, release_id=7)


def _bad_crs() -> None:
    raise CRSError("无法识别的坐标系“foo”。", "Unknown CRS 'foo'.", accepted=["EPSG:4490"])


def _sleep_after_writing_pid(path: Path) -> None:
    path.write_text(str(os.getpid()))
    time.sleep(60)


def _die() -> None:
    os._exit(3)


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_result_comes_back():
    assert run_isolated(divmod, 17, 5, time_limit_s=60) == (3, 2)
    assert run_isolated(divmod, 17, 5, time_limit_s=60, then=sum) == 5   # applied in the child


def test_domain_errors_come_back_whole():
    with pytest.raises(ValidationFailed) as caught:
        run_isolated(_refuse, 2, time_limit_s=60)
    exc = caught.value
    assert exc.report == {"error_count": 2} and exc.detail == {"release_id": 7}
    assert exc.as_dict() == {"code": "validation_failed", "message": "有错误。",
                             "message_en": "There are errors.", "detail": {"release_id": 7}}
    with pytest.raises(CRSError) as caught:
        run_isolated(_bad_crs, time_limit_s=60)
    assert caught.value.detail == {"accepted": ["EPSG:4490"]} and str(caught.value) == "Unknown CRS 'foo'."


def test_other_errors_keep_their_type_and_where_they_happened():
    with pytest.raises(ValueError, match="invalid literal") as caught:
        run_isolated(int, "x", time_limit_s=60)
    assert "isolated child process" in caught.value.__notes__[0]


def test_a_dead_child_is_reported():
    with pytest.raises(ChildFailed, match="exit code 3"):
        run_isolated(_die, time_limit_s=60)


@pytest.mark.serial  # timed: flaky beside another xdist worker (scripts/test runs it alone)
def test_the_child_is_stopped_after_the_time_limit(tmp_path):
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(TooLarge) as caught:
        run_isolated(_sleep_after_writing_pid, pid_file, time_limit_s=1.0)
    assert time.monotonic() - started < 10
    assert caught.value.detail == {"time_limit_s": 1.0} and caught.value.message_zh
    assert _gone(int(pid_file.read_text()))


def test_the_child_is_stopped_when_the_caller_gives_up(tmp_path):
    pid_file = tmp_path / "pid"
    with pytest.raises(Abandoned):
        run_isolated(_sleep_after_writing_pid, pid_file, time_limit_s=60,
                     abandoned=pid_file.exists)
    assert _gone(int(pid_file.read_text()))


def test_trim_heap_runs():
    assert isinstance(trim_heap(), bool)

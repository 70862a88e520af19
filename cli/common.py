"""What every ``wangge`` command shares: language, console, progress, store, error handling."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from wangge.geo.boundaries.findings import RULES_ZH, Report
from wangge.geo.errors import InputError, ValidationFailed, WanggeError
from wangge.settings import Settings

if TYPE_CHECKING:
    from wangge.store import Store

log = logging.getLogger("wangge.cli")
console = Console()
err = Console(stderr=True)
STATE: dict[str, str] = {"lang": "zh"}
CHINA = timezone(timedelta(hours=8), "UTC+8")


def say(zh: str, en: str) -> str:
    return en if STATE["lang"] == "en" else zh


_CJK = re.compile(r"[\u4e00-\u9fff]")


def english(text: str | None) -> str | None:
    """The English of a help text written "中文 / English", paragraph by paragraph.

    Help is built when the app is imported, before ``--lang`` is read, so every help string
    carries both languages, Chinese first; a paragraph that is Chinese only is left out.
    """
    if not text:
        return text
    kept = []
    for para in text.split("\n\n"):
        flat = " ".join(para.split())
        for cut in re.finditer(r"/ ", flat):
            if _CJK.search(flat[:cut.start()]) and not _CJK.search(flat[cut.end():cut.end() + 24]):
                kept.append(flat[cut.end():])
                break
        else:
            if not _CJK.search(flat):
                kept.append(para)
    return "\n\n".join(kept) or text


def use_language(command: object, lang: str) -> None:
    """Show the help of ``command`` and everything under it in ``lang`` (``en``: English only;
    ``zh``: as written, Chinese first). Called by the root callback, which click runs before a
    sub-command parses its ``--help``."""
    if lang != "en":
        return
    command.help = english(getattr(command, "help", None))  # type: ignore[attr-defined]
    for param in getattr(command, "params", []):
        if getattr(param, "help", None):
            param.help = english(param.help)
    for sub in getattr(command, "commands", {}).values():
        use_language(sub, lang)


def load_settings() -> Settings:
    return Settings()


def open_store(settings: Settings) -> Store:
    from wangge.store import open_store as open_

    return open_(settings.database_url)


@contextmanager
def step(text: str) -> Iterator[None]:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        progress.add_task(text, total=None)
        yield


def seconds(value: float) -> str:
    """A duration as people read it: 4.2 秒, 3 分 12 秒 (or 4.2 s, 3 min 12 s)."""
    if value < 60:
        return say(f"{value:.1f} 秒", f"{value:.1f} s")
    minutes, rest = divmod(round(value), 60)
    return say(f"{minutes} 分 {rest} 秒", f"{minutes} min {rest} s")


class _TimeLeft(ProgressColumn):
    """Time left: the pace of the stages done so far (by weight) over the weight still to do,
    less the time the stage running has taken already."""

    def render(self, task: Task) -> Text:
        done_at = task.fields.get("done_at")
        if not task.completed or done_at is None or task.total is None or task.elapsed is None:
            return Text("-:--:--", style="progress.remaining")
        left = max(0.0, done_at / task.completed * task.total - task.elapsed)
        minutes, secs = divmod(round(left), 60)
        return Text(f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}", style="progress.remaining")


class Stages:
    """Progress of a long command made of stages: a bar over the stages with elapsed time and
    an estimate of the time left, the stage running, and a line for each finished stage with
    what it counted and how long it took; :meth:`finish` prints and logs the summary line.

    ``weights`` are the expected shares of the time, stage by stage (measured on the demo), so
    the estimate is not thrown by one long stage; the stage after the last weight counts 1.
    Drawn on standard error; where that is not a terminal only the stage lines are written.
    """

    def __init__(self, weights: Sequence[float]) -> None:
        self.weights = list(weights)
        self.index = 0
        self.started = time.perf_counter()
        self.stage_started = self.started
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                 BarColumn(bar_width=20), TaskProgressColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), _TimeLeft(),
                                 console=err, transient=True)
        self.task = self.progress.add_task("", total=sum(self.weights) or 1)
        self.said: tuple[str, str] | None = None

    def __enter__(self) -> Stages:
        if err.is_terminal:  # elsewhere (a log file, a pipe) the stage lines are enough
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def begin(self, zh: str, en: str) -> None:
        """The next stage starts."""
        self.stage_started = time.perf_counter()
        self.progress.update(self.task, description=say(zh, en))

    def end(self, zh: str, en: str) -> None:
        """The stage running ends: one line saying what it did and how long it took."""
        took = time.perf_counter() - self.stage_started
        weight = self.weights[self.index] if self.index < len(self.weights) else 1
        self.index += 1
        self.progress.advance(self.task, weight)
        self.progress.update(self.task, done_at=time.perf_counter() - self.started)
        self.progress.console.print(f"  [green]✓[/green] {say(zh, en)}  [dim]{seconds(took)}[/dim]")

    def did(self, zh: str, en: str) -> None:
        """What the stage running did, for its line (default: the stage's own text)."""
        self.said = (zh, en)

    @contextmanager
    def stage(self, zh: str, en: str) -> Iterator[None]:
        """A stage as a block (:meth:`did` inside it says what it did)."""
        self.begin(zh, en)
        self.said = None
        yield
        self.end(*(self.said or (zh.rstrip("…"), en.rstrip("…"))))

    def finish(self, what_zh: str, what_en: str) -> None:
        """The summary line: what was done and the whole time; logged as well (no personal data
        in ``what``)."""
        took = time.perf_counter() - self.started
        self.__exit__()
        err.print(say(f"完成：{what_zh}，用时 {seconds(took)}。", f"Done: {what_en} in {seconds(took)}."))
        log.info("%s in %.1f s", what_en, took)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn domain errors into a clear message and exit code 2 (1 for validation errors)."""
    try:
        yield
    except ValidationFailed as exc:
        err.print(f"[red]{say(exc.message_zh, exc.message_en)}[/red]")
        report = exc.report or {}
        findings = (report.get("report") or report).get("findings", [])
        if findings:
            print_findings(findings)
        raise typer.Exit(1) from exc
    except WanggeError as exc:
        err.print(f"[red]{say(exc.message_zh, exc.message_en)}[/red]")
        raise typer.Exit(2) from exc


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"日期“{text}”不正确，应写成 YYYY-MM-DD。",
                         f"Date {text!r} is not valid; write YYYY-MM-DD.") from exc


def parse_fields(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(say(f"字段映射应写成 目标=源字段，收到 {item!r}",
                                         f"field mapping must be TARGET=SOURCE, got {item!r}"))
        target, source = item.split("=", 1)
        out[target.strip()] = source.strip()
    return out


# Tables of the list verbs fit a terminal this wide.
TABLE_WIDTH = 100


def when(moment: datetime | None) -> str:
    """A stored instant (UTC) as China time to the minute."""
    return "" if moment is None else moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def print_list(title: str, columns: list[tuple[str, str, dict]], rows: list[list[str]]) -> None:
    """The table of a list verb: headers in the language chosen, no wider than
    :data:`TABLE_WIDTH` (long cells fold). ``columns`` are ``(zh, en, column options)``."""
    table = Table(title=title, title_justify="left")
    for zh, en, opts in columns:
        table.add_column(say(zh, en), **{"overflow": "fold", **opts})
    for row in rows:
        table.add_row(*row)
    console.print(table, width=min(console.width, TABLE_WIDTH))


def print_findings(findings: list[dict]) -> None:
    table = Table(title=say("校验发现的问题", "Validation findings"), show_lines=False)
    for col in (say("级别", "severity"), say("规则", "rule"), say("编码", "codes"),
                say("位置 (经度, 纬度)", "location (lon, lat)"), say("大小", "size"),
                say("说明", "message")):
        table.add_column(col, overflow="fold")
    for f in findings:
        sev = f["severity"]
        colour = "red" if sev == "error" else "yellow"
        loc = f.get("location")
        size = f.get("size")
        table.add_row(
            f"[{colour}]{say('错误' if sev == 'error' else '警告', sev)}[/{colour}]",
            say(RULES_ZH.get(f["rule"], f["rule"]), f["rule"]), "\n".join(f["codes"]),
            f"{loc[0]:.6f}, {loc[1]:.6f}" if loc else "",
            f"{size:,.2f} m²" if size is not None else "",
            say(f["message"], f["message_en"]))
    console.print(table)


def print_summary(report: Report) -> None:
    console.print(say(
        f"共 {report.unit_count} 个单元：{len(report.errors)} 个错误，{len(report.warnings)} 个警告"
        f"（用时 {report.seconds:.2f} 秒）。",
        f"{report.unit_count} units: {len(report.errors)} errors, {len(report.warnings)} warnings "
        f"({report.seconds:.2f} s)."))



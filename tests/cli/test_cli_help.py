"""Every command's help reads in both languages: Chinese first, then English after `` / ``.

Typer builds help text when the app is imported, before ``--lang`` is parsed, so each help
string carries both languages ("中文 / English") and ``wangge --lang en … --help`` has no
Chinese-only line.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from wangge.cli.app import app

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")  # prose, not only names such as "Excel (.xlsx) / JSON"
# Typer's own options: English, and the same in every program.
TYPER_OWN = {"help", "install_completion", "show_completion"}


def _commands(group, path: tuple[str, ...] = ()):  # noqa: ANN001 (typer's own click classes)
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _bilingual(text: str | None) -> bool:
    """Chinese, then `` / `` (or ``）/ ``) and English; the first paragraph is enough."""
    first = " ".join((text or "").split("\n\n")[0].split())
    for cut in re.finditer(r"/ ", first):
        zh, en = first[:cut.start()], first[cut.end():]
        if CJK.search(zh) and ENGLISH_WORD.search(en) and not CJK.search(en[:24]):
            return True
    return False


def test_every_command_and_option_has_bilingual_help():
    missing = []
    for path, command in COMMANDS:
        name = " ".join(path) or "wangge"
        if not _bilingual(command.help):
            missing.append(f"{name}: {command.help!r}")
        for param in command.params:
            if param.name in TYPER_OWN:
                continue
            text = getattr(param, "help", None)
            if not _bilingual(text):
                missing.append(f"{name} {param.name}: {text!r}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "wangge")
def test_help_under_lang_en_has_no_chinese_only_line(path):
    result = CliRunner().invoke(app, ["--lang", "en", *path, "--help"],
                                env={"COLUMNS": "100", "TERMINAL_WIDTH": "100"})
    assert result.exit_code == 0, result.output
    chinese_only = [line for line in result.output.splitlines()
                    if CJK.search(line) and not LATIN_WORD.search(line)]
    assert not chinese_only, "\n".join(chinese_only)


def test_help_is_chinese_first_by_default():
    result = CliRunner().invoke(app, ["import", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert text.index("存为草稿") < text.index("store as")


def test_lang_en_shows_the_english_half_only():
    result = CliRunner().invoke(app, ["--lang", "en", "import", "--help"], env={"COLUMNS": "100"})
    text = " ".join(result.output.split())
    assert "store as a draft" in text and "存为草稿" not in text
    by_env = CliRunner().invoke(app, ["export", "--help"],
                                env={"COLUMNS": "100", "WANGGE_LANGUAGE": "en"})
    text = " ".join(by_env.output.split())
    assert "export one level only" in text and "只导出一个层级" not in text


def test_export_level_help_is_its_own():
    export = dict(COMMANDS)[("export",)]
    imported = dict(COMMANDS)[("import",)]
    helps = {p.name: p.help for p in export.params}
    assert helps["level"] != {p.name: p.help for p in imported.params}["level"]
    assert "导出" in helps["level"] and "export" in helps["level"]


def test_english_of_a_help_text():
    from wangge.cli.common import english

    assert english("版本号 / release id") == "release id"
    assert english("发布（有错误则拒绝）/ Publish a release.") == "Publish a release."
    assert english("导出。/ Export.\n\n只有中文的说明。\n\nEnglish only.") == "Export.\n\nEnglish only."

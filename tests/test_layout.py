"""The house's rules, read from the code: which package may import which, and what installs.

Each top-level folder is a sub-package of ``wangge`` when installed (``geo/`` is ``wangge.geo``).
The floors, bottom up: ``geo`` (pure geometry core); ``geocode``, ``store``, ``maps`` and
``demo`` on it; the services in ``wangge/``; ``api`` and ``cli`` at the top. A package imports
only from its own floor's package and the floors below it.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package (folder) -> the first-party packages it may import besides itself
ALLOWED: dict[str, set[str]] = {
    "geo": set(),
    "geocode": {"geo"},
    "store": {"geo"},
    "maps": {"geo"},
    "demo": {"geo"},
    "wangge": {"geo", "geocode", "store", "maps"},
    "api": {"geo", "geocode", "store", "maps", "wangge"},
    "cli": {"geo", "geocode", "store", "maps", "wangge", "demo"},
}
# what the geometry core never imports: the web, the database, the cluster, the CLI, the map pages
NOT_IN_GEO = {"alembic", "dask", "dask_geopandas", "distributed", "fastapi", "folium", "geoalchemy2",
              "httpx", "psycopg", "pydantic", "pydantic_settings", "rich", "sqlalchemy", "starlette",
              "typer", "uvicorn"}


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "wangge":
        return None
    if len(parts) > 1 and parts[1] in ALLOWED and parts[1] != "wangge":
        return parts[1]
    return "wangge"


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_from_the_floors_below(package: str) -> None:
    wrong = []
    for path in _sources(package):
        for line, module in _imports(path):
            if module.split(".")[0] in {"geo", "geocode", "store", "maps", "demo", "api", "cli"}:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module} (not under wangge.)")
            target = _package_of(module)
            if target is not None and target != package and target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_geometry_core_knows_no_web_database_or_cluster() -> None:
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {module}"
             for path in _sources("geo") for line, module in _imports(path)
             if module.split(".")[0] in NOT_IN_GEO]
    assert not wrong, "\n".join(wrong)


def _configured() -> tuple[list[str], dict[str, str]]:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return tool["packages"], tool["package-dir"]


def _folder_of(package: str, package_dir: dict[str, str]) -> Path:
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        head = ".".join(parts[:n])
        if head in package_dir:
            return ROOT / package_dir[head] / Path(*parts[n:])
    raise AssertionError(f"{package} is under no package-dir entry")


def test_every_folder_of_code_is_installed_under_one_name() -> None:
    packages, package_dir = _configured()
    assert {name.split(".")[0] for name in packages} == {"wangge"}
    assert set(package_dir) == {"wangge"} | {f"wangge.{p}" for p in ALLOWED if p != "wangge"}
    listed = {_folder_of(name, package_dir) for name in packages}
    folders = {path.parent for p in ALLOWED for path in _sources(p)}
    assert folders - listed == set(), "folders of code missing from [tool.setuptools] packages"
    assert listed - folders == set(), "packages listed without code"


def _source_copy(to: Path) -> Path:
    """The files a build reads, copied, so that building writes nothing into the checkout."""
    to.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, to / name)
    for package in ALLOWED:
        shutil.copytree(ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__"))
    return to


def test_the_wheel_installs_one_top_level_package(tmp_path: Path) -> None:
    source = _source_copy(tmp_path / "source")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q",
                            "--no-build-isolation", "-w", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("wangge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"wangge", wheel.name.split("-py")[0] + ".dist-info"}
    assert "wangge/store/migrations/script.py.mako" in names
    assert "wangge/store/migrations/versions/0001_releases_and_units.py" in names
    # the installed copy runs from where it is installed, migrations included
    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                                "--target", str(target), str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    probe = ("import sys; sys.path.insert(0, sys.argv[1]);"
             "import wangge.cli.app, wangge.api.app, wangge.store as s;"
             "bad = [m.__file__ for n, m in list(sys.modules.items())"
             "       if n.startswith('wangge') and getattr(m, '__file__', None)"
             "       and not m.__file__.startswith(sys.argv[1])];"
             "assert not bad, bad;"
             "st = s.open_store('sqlite:///' + sys.argv[1] + '/probe.db'); st.close(); print('ok')")
    ran = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr

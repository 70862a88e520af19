"""Every coordinate conversion goes through :mod:`wangge.geo.crs`, read from the source with ``ast``.

Outside the gate (``geo/crs.py``, and ``geo/chinacoords.py`` whose formulas it calls), no module
of the installed packages may:

- import ``Transformer`` or ``pyproj.transformer``, or reach ``pyproj.Transformer``;
- call into pyproj at all (``pyproj.CRS.from_epsg(…)``, ``pyproj.CRS(…)``, ``pyproj.Geod(…)``):
  parsing and building CRSs is :func:`wangge.geo.crs.parse_crs`'s job;
- use any pyproj name but ``CRS``, and that only as a type (annotations, ``isinstance``): a
  ``pyproj.CRS`` passed around or compared (``.equals``, ``.to_epsg``) describes a CRS and
  converts nothing;
- import a private name (``_transformer``) of ``wangge.geo.crs``, or read one from the module;
- call or take ``.to_crs`` (``frame_to_storage`` converts frames), or relabel coordinates with
  ``set_crs(…, allow_override=True)``.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("wangge", "wangge.geo", "wangge.geocode", "wangge.store", "wangge.api", "wangge.maps",
            "wangge.cli", "wangge.demo")
GATE = "wangge.geo.crs"
# The gate itself, and the GCJ-02/BD-09 formulas it applies (pyproj does not know those systems).
EXEMPT = {GATE, "wangge.geo.chinacoords"}
# Modules allowed an offence, with the reason: none.
ALLOWED: dict[str, str] = {}


def _modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, source file) of every module of the packages, each once."""
    seen: set[Path] = set()
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        for location in spec.submodule_search_locations:
            root = Path(location)
            for path in sorted(root.rglob("*.py")):
                rel = path.relative_to(root).with_suffix("").parts
                if path in seen or any(p.startswith(".") or p == "__pycache__" for p in rel):
                    continue
                seen.add(path)
                name = ".".join((package, *rel))
                yield name.removesuffix(".__init__"), path


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    """The absolute module of a (possibly relative) ``from … import``."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def offences(module: str, source: str, filename: str, is_package: bool = False) -> list[str]:
    """``file:line what`` for every way ``source`` goes around the CRS gate."""
    tree = ast.parse(source, filename)
    pyproj_names: set[str] = set()  # names bound to the pyproj module
    pyproj_types: set[str] = set()  # names bound to pyproj.CRS by "from pyproj import CRS"
    gate_names: set[str] = set()  # names bound to the wangge.geo.crs module
    found: list[tuple[int, str]] = []

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "pyproj" or alias.name.startswith("pyproj."):
                    if alias.name != "pyproj":
                        found.append((node.lineno, f"imports {alias.name}"))
                    pyproj_names.add(alias.asname or "pyproj")
                if alias.name == GATE and alias.asname:
                    gate_names.add(alias.asname)
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(module, node, is_package)
            for alias in node.names:
                if source_module == "pyproj" and alias.name == "CRS":
                    pyproj_types.add(alias.asname or alias.name)
                elif source_module == "pyproj" or source_module.startswith("pyproj."):
                    found.append((node.lineno, f"imports {alias.name} from {source_module}"))
                elif source_module == GATE and alias.name.startswith("_"):
                    found.append((node.lineno, f"imports the private {alias.name} of {GATE}"))
                elif f"{source_module}.{alias.name}" == GATE:
                    gate_names.add(alias.asname or alias.name)

    def pyproj_root(expr: ast.expr) -> bool:
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return isinstance(expr, ast.Name) and (expr.id in pyproj_names or expr.id in pyproj_types)

    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if pyproj_root(node.func):
                found.append((node.lineno, f"calls {ast.unparse(node.func)}"))
            if isinstance(node.func, ast.Attribute) and node.func.attr == "set_crs" and any(
                    k.arg == "allow_override" and not (isinstance(k.value, ast.Constant)
                                                       and not k.value.value)
                    for k in node.keywords):
                found.append((node.lineno, "relabels coordinates with set_crs(allow_override=…)"))
        elif isinstance(node, ast.Attribute):
            if node.attr == "to_crs":
                found.append((node.lineno, f"converts with {ast.unparse(node)}"))
            elif (pyproj_root(node) and id(node) not in inner and id(node) not in called
                  and not (isinstance(node.value, ast.Name) and node.value.id in pyproj_names
                           and node.attr == "CRS")):
                found.append((node.lineno, f"uses {ast.unparse(node)}"))
            elif (isinstance(node.value, ast.Name) and node.value.id in gate_names
                  and node.attr.startswith("_")):
                found.append((node.lineno, f"reads the private {ast.unparse(node)}"))
    return [f"{filename}:{line} {what}" for line, what in sorted(set(found))]


def test_every_conversion_goes_through_the_gate() -> None:
    modules = list(_modules())
    assert len(modules) > 50, "the packages' modules were not found"
    assert {name for name, _ in modules} >= EXEMPT
    found = []
    for name, path in modules:
        if name in EXEMPT or name in ALLOWED:
            continue
        found += offences(name, path.read_text(encoding="utf-8"), str(path),
                          is_package=path.name == "__init__.py")
    assert not found, "coordinate conversions outside wangge.geo.crs:\n" + "\n".join(found)


def test_the_check_finds_each_way_around_the_gate() -> None:
    source = """
import pyproj
import pyproj as pp
from pyproj import Transformer
from pyproj.transformer import TransformerGroup
from pyproj import CRS
from wangge.geo.crs import _transformer
from wangge.geo import crs as gate
from ..crs import _xy_func

metric: pyproj.CRS = CRS.from_epsg(4549)
t = pyproj.Transformer.from_crs(1, 2, always_xy=True)
u = pp.Transformer
g = pyproj.Geod(ellps="WGS84")
frame.to_crs(4490)
convert = frame.to_crs
make = pyproj.CRS.from_epsg
frame.set_crs(4490, allow_override=True)
gate._pyproj_func(a, b)
"""
    found = offences("wangge.geo.coverage.example", source, "example.py")
    lines = [int(f.split(":")[1].split()[0]) for f in found]
    assert lines == [4, 5, 7, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19], found


def test_types_and_identity_pass() -> None:
    source = """
import pyproj
from pyproj import CRS
from wangge.geo.crs import STORAGE_CRS, lonlat_to_metric

def f(metric: pyproj.CRS, other: CRS | None) -> bool:
    frame.set_crs(4490)
    frame.set_crs(4490, allow_override=False)
    return isinstance(metric, pyproj.CRS) and metric.equals(STORAGE_CRS)
"""
    assert offences("wangge.geo.coverage.example", source, "example.py") == []

"""Gzip for the browser's pages and files (api/compression.py), never for the /v1 answers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.api.conftest import api_client, load_release
from wangge.api.compression import BrowserGZip, browser_facing
from wangge.api.docs_pages import SWAGGER_UI_PARAMETERS
from wangge.maps.assets import ASSETS, DOCS_ASSETS, NPM_FILES, STAMP

GZIP = {"Accept-Encoding": "gzip"}


@pytest.mark.parametrize("path", ["/docs", "/docs/assets/swagger-ui/swagger-ui-bundle.js",
                                  "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/ogc/api",
                                  "/maps", "/maps/", "/maps/overview", "/maps/assets/leaflet/x.js",
                                  "/maps/tiles/1/overview/grid/14/1/2.json", "/login",
                                  "/v1/plans/3/units"])
def test_browser_paths_are_compressed(path):
    assert browser_facing(path)


@pytest.mark.parametrize("path", ["/v1/membership", "/v1/membership/batch", "/v1/units", "/v1/plansx",
                                  "/logout", "/docsx", "/mapsx", "/health", "/ogc",
                                  "/ogc/collections/grid/items", "/"])
def test_other_paths_are_not(path):
    assert not browser_facing(path)


def _streaming_app() -> Starlette:
    def chunks():
        for i in range(50):
            yield (f"line {i} " * 200 + "\n").encode()

    async def stream(request):
        return StreamingResponse(chunks(), media_type="text/csv")

    return Starlette(routes=[Route("/maps/export.csv", stream), Route("/v1/export.csv", stream)])


def test_streams_stay_whole_through_the_wrapper():
    expected = b"".join((f"line {i} " * 200 + "\n").encode() for i in range(50))
    client = TestClient(BrowserGZip(_streaming_app()))
    page = client.get("/maps/export.csv", headers=GZIP)
    assert page.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in page.headers["vary"].lower()
    assert page.content == expected
    assert page.num_bytes_downloaded < len(expected) // 10
    answer = client.get("/v1/export.csv", headers=GZIP)
    assert "content-encoding" not in answer.headers and "vary" not in answer.headers
    assert answer.content == expected


def test_the_root_path_is_not_part_of_the_match():
    client = TestClient(BrowserGZip(_streaming_app()), root_path="/wangge")
    assert client.get("/wangge/maps/export.csv", headers=GZIP).headers["content-encoding"] == "gzip"
    assert "content-encoding" not in client.get("/wangge/v1/export.csv", headers=GZIP).headers


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the Swagger UI, ReDoc and Leaflet files, larger than one file chunk."""
    folder = tmp_path / "assets"
    for asset in [*ASSETS.values(), *DOCS_ASSETS.values()]:
        file = folder / asset.local
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(f"/* {asset.local} */\n".encode() + b"var SwaggerUIBundle = 1;\n" * 20_000)
    for name, (spec, _) in NPM_FILES.items():   # each folder says which package it holds
        (folder / name / STAMP).write_text(spec)
    monkeypatch.setenv("WANGGE_MAP_ASSETS", str(folder))
    return folder


def test_pages_files_and_documents_are_gzipped_answers_are_not(tmp_path, assets, small_units):
    url = load_release(f"sqlite:///{tmp_path / 'w.db'}", small_units)
    with api_client(url, role="viewer", map_tiles="none") as c:
        for path in ("/openapi.json", "/ogc/api", "/maps/overview?tiles=none", "/maps/",
                     "/docs/assets/" + DOCS_ASSETS["swagger_js"].local,
                     "/maps/assets/" + ASSETS["leaflet"].local):
            r = c.get(path, headers=GZIP)
            assert r.status_code == 200, path
            assert r.headers.get("content-encoding") == "gzip", path
            assert "accept-encoding" in r.headers["vary"].lower(), path
            assert r.num_bytes_downloaded < len(r.content), path
        js = c.get("/docs/assets/" + DOCS_ASSETS["swagger_js"].local, headers=GZIP)
        assert js.content == (assets / DOCS_ASSETS["swagger_js"].local).read_bytes()
        assert c.get("/openapi.json", headers=GZIP).json()["info"]["title"].startswith("wangge")
        # a client that does not ask for gzip gets the plain bytes
        plain = c.get("/openapi.json", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.num_bytes_downloaded == len(plain.content)
        # the API's answers, large or small, are never compressed
        units = c.get("/v1/units", params={"level": "microgrid"}, headers=GZIP)
        assert units.status_code == 200 and len(units.content) > 10_000
        point = units.json()["features"][0]["geometry"]["coordinates"][0][0]
        for r in (units,
                  c.get("/v1/membership", params={"lon": point[0], "lat": point[1]},
                        headers=GZIP)):
            assert r.status_code == 200
            assert "content-encoding" not in r.headers
            assert r.num_bytes_downloaded == len(r.content)


def test_gzip_bytes_are_standard_gzip(tmp_path, assets):
    with api_client(f"sqlite:///{tmp_path / 'w.db'}", role=None) as c:
        # read the raw body: httpx would otherwise decode it
        with c.stream("GET", "/openapi.json", headers=GZIP) as r:
            raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert gzip.decompress(raw).startswith(b"{")


def test_swagger_ui_lists_operations_without_the_schemas_section(tmp_path, assets):
    assert SWAGGER_UI_PARAMETERS == {"validatorUrl": None, "defaultModelsExpandDepth": -1}
    with api_client(f"sqlite:///{tmp_path / 'w.db'}", role=None) as c:
        page = c.get("/docs").text
    assert '"defaultModelsExpandDepth": -1' in page and '"validatorUrl": null' in page
    assert '"docExpansion"' not in page  # operations stay listed (Swagger's default: "list")


"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from wangge.geo.crs import parse_bbox
from wangge.settings import Settings
from wangge.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_bbox(bbox: Annotated[str | None, Query(
        description="minlon,minlat,maxlon,maxlat (EPSG:4490)",
        examples=["120.10,33.30,120.25,33.45"])] = None) -> tuple[float, float, float, float] | None:
    return parse_bbox(bbox)


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(get_bbox)]

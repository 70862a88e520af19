"""Typed dependencies shared by the routers.

``ReleaseDep`` looks the release up in the store, so it runs in the threadpool; ``OgcCrsDep``
only parses text and runs on the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from wangge.geo.crs import STORAGE_URI, OgcCRS, parse_bbox, parse_ogc_crs
from wangge.settings import Settings
from wangge.store import ReleaseInfo, Store

RELEASE_HELP = "版本号，默认当前版本"


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_bbox(bbox: Annotated[str | None, Query(
        description="minlon,minlat,maxlon,maxlat (EPSG:4490)",
        examples=["120.10,33.30,120.25,33.45"])] = None) -> tuple[float, float, float, float] | None:
    return parse_bbox(bbox)


def get_release(store: Annotated[Store, Depends(get_store)],
                release: Annotated[int | None, Query(ge=1, le=2_147_483_647,
                                                     description=RELEASE_HELP)] = None
                ) -> ReleaseInfo:
    """The release named by ``release``, or the current one; NotFound if there is none."""
    return store.release_or_current(release)


async def get_ogc_crs(crs: Annotated[str | None, Query(description="输出坐标系 / output CRS URI",
                                                       examples=[STORAGE_URI])] = None) -> OgcCRS:
    """The OGC output ``crs`` URI (CRS84 by default); CRSError lists the supported ones."""
    return parse_ogc_crs(crs)


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(get_bbox)]
ReleaseDep = Annotated[ReleaseInfo, Depends(get_release)]
OgcCrsDep = Annotated[OgcCRS, Depends(get_ogc_crs)]

"""Receive an uploaded boundary file into a temporary file, within the size limit."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from wangge.geo.errors import FileFormatError, InputError, TooLarge
from wangge.geo.io.vector import DRIVERS

_CHUNK = 1 << 20


BOUNDARY_SUFFIXES = tuple(s for s in DRIVERS if s != ".shp")


@contextmanager
def saved_upload(upload: UploadFile, max_mb: int,
                 suffixes: tuple[str, ...] = BOUNDARY_SUFFIXES) -> Iterator[Path]:
    """Write the upload to a temporary file named like the original (readers go by suffix)."""
    name = Path(upload.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise FileFormatError(
            f"不支持的文件“{name}”：请上传 {'、'.join(suffixes)} 文件。",
            f"Unsupported file {name!r}: upload one of {', '.join(suffixes)}.")
    with tempfile.TemporaryDirectory(prefix="wangge-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(_CHUNK):
                size += len(chunk)
                if size > max_mb * _CHUNK:
                    raise TooLarge(f"文件超过 {max_mb} MB 上限。",
                                     f"File exceeds the {max_mb} MB limit.", limit_mb=max_mb)
                out.write(chunk)
        yield path


def parse_field_map(text: str | None) -> dict[str, str] | None:
    """``{"code": "WGBM", ...}`` as JSON, or ``code=WGBM,name=WGMC``."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InputError("fields 不是合法的 JSON。", "fields is not valid JSON.") from exc
        if not isinstance(value, dict):
            raise InputError("fields 应为对象。", "fields must be an object.")
        return {str(k): str(v) for k, v in value.items()}
    out = {}
    for item in text.split(","):
        if "=" not in item:
            raise InputError(f"字段映射应写成 目标=源字段，收到“{item}”。",
                             f"Field mapping must be TARGET=SOURCE, got {item!r}.")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out

"""Work done in the background when a service starts (``warm_maps``), so the first visitor
does not wait for it: logged with its time, never raised (what it fills is otherwise filled
when first asked for)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from wangge.geo.errors import WanggeError

log = logging.getLogger(__name__)


def warmed(what_zh: str, what_en: str, work: Callable[[], None]) -> bool:
    """Run ``work``; True when it finished, False (and a warning) when it failed."""
    started = time.monotonic()
    try:
        work()
    except (WanggeError, SQLAlchemyError, OSError, ValueError, RuntimeError) as exc:
        log.warning("%s未预热 / %s not warmed: %s", what_zh, what_en, exc)
        return False
    seconds = time.monotonic() - started
    log.info("%s已预热（%.1f 秒）/ %s warmed in %.1f s", what_zh, seconds, what_en, seconds)
    return True

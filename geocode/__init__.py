"""Chinese address handling: normalise, parse, match against the gazetteer; online geocoders.

Knows nothing of the web or the database, like ``geo/``.

- :func:`normalize` — one canonical spelling of an address (:mod:`wangge.geocode.normalize`);
- :func:`parse` — its components (:mod:`wangge.geocode.parse`);
- :class:`Gazetteer` — compounds, village groups and buildings, indexed (:mod:`wangge.geocode.gazetteer`);
- :class:`Matcher` — ``match`` / ``match_many`` with level, score and reason, and
  :func:`cross_check` of given coordinates (:mod:`wangge.geocode.match`).
"""

from wangge.geocode.gazetteer import Gazetteer
from wangge.geocode.match import (
    FAR_FLAG,
    MatchConfig,
    Matcher,
    MatchLevel,
    MatchResult,
    cross_check,
    cross_check_many,
)
from wangge.geocode.normalize import normalize
from wangge.geocode.parse import ParsedAddress, parse

__all__ = ["FAR_FLAG", "Gazetteer", "MatchConfig", "MatchLevel", "MatchResult", "Matcher",
           "ParsedAddress", "cross_check", "cross_check_many", "normalize", "parse"]

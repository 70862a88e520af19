"""Chinese address handling: normalise, parse, match against the gazetteer; online geocoders.

Knows nothing of the web or the database, like ``geo/``.
"""

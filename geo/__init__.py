"""Geometry core of wangge: CRS handling, boundary validation and repair, demo data.

Knows nothing of the web or the database; `api/`, `maps/`, `store/` and the CLI call into it.
"""

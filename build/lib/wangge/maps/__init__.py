"""Interactive maps (folium/Leaflet), built in memory from plain inputs: no database, no web.

Builders (each returns a ``folium.Map``; render with ``m.get_root().render()``):

- :func:`wangge.maps.overview.overview` — the four levels, one shaded (households, per worker, coverage)
- :func:`wangge.maps.unit.unit` — one unit, its sub-units, households and sites
- :func:`wangge.maps.coverage.coverage` — service sites, 5/10/15-minute circles, what is uncovered
- :func:`wangge.maps.validation.validation` — the findings of :func:`wangge.geo.boundaries.validate.validate`
- :func:`wangge.maps.landing.landing` — the HTML page listing the maps (a string)

Base maps and the shift of data into their coordinate system: :mod:`wangge.maps.tiles`. Texts:
:mod:`wangge.maps.labels`. Offline Leaflet files: :mod:`wangge.maps.assets`.
"""

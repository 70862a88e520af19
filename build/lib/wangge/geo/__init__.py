"""Geometry core of wangge: coordinates, boundary rules, the point index, walking coverage, intake.

Rooms: ``crs``/``chinacoords`` (the one gate for coordinates), ``levels``, ``errors`` (domain
errors); ``boundaries/`` (validation rules, findings, repair), ``index/`` (which unit holds a
point), ``coverage/`` (walking networks, catchments, coverage, site suggestion) and ``io/`` (every
file the service reads or writes). Knows nothing of the web, the database, the services or the
demo; everything else calls into it.
"""

"""Intake and output: every file the service reads (tables, vector files, OSM extracts) and the
CSV it writes. One table reader (``table``) and one vector reader (``vector``) under every kind."""

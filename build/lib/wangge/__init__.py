"""wangge: geospatial service for community grid governance (网格化管理)."""

"""The point index: which street, community, grid and micro-grid holds each point.

``hierarchy`` holds the exact, vectorised index over the four levels; ``raster`` the lookup
raster behind it that answers most points without a polygon test.
"""

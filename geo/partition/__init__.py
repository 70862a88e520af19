"""Auto-partition of grids: proposed grids of ``[minimum, maximum]`` households per community.

A community's micro-grids are the atoms (the micro-grids of one compound glued into one); a grid
is a contiguous group of them. ``graph`` builds the atom adjacency (shared edge lengths in
metres), ``feasibility`` says when the bounds cannot be met and why, ``bisect`` cuts along
random spanning trees, ``search`` holds the local moves, ``repair`` fixes the plan in force
moving few households, ``scratch`` partitions from scratch (the comparison point), ``report``
is what a partition reports, and ``proposals`` is the adapter from a units frame.
"""

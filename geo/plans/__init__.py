"""A planner's draft of the boundaries: edits that keep the hierarchy a clean coverage.

A plan starts from a release and changes it one edit at a time. Ground lives in the leaves
(micro-grids, or grids without micro-grids); a grid's outline is the union of its micro-grids,
so moving, merging and splitting reassign leaves and the grids follow. Streets and communities
are official: only an administrator's edit changes them. Every edit answers with its impact:
households that move, counts against their range, contiguity, compactness and the validation
findings of the communities it touched, computed from what changed only.
"""

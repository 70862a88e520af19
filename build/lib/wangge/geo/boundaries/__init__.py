"""Boundary rules: validate a release of units, the findings it reports, repair on request."""

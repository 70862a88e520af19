"""One router per resource, collected in :data:`wangge.api.routers.ROUTERS`.

Membership comes first: it takes most of the traffic, and routes are matched in order.
"""

from wangge.api.routers import (
    access,
    coverage,
    health,
    households,
    login,
    maps,
    membership,
    ogc,
    plan_files,
    plans,
    releases,
    review,
    sites,
    units,
    workers,
)

ROUTERS = [(membership.router, "/v1"), (health.router, ""), (releases.router, "/v1"),
           (units.router, "/v1"), (households.router, "/v1"), (review.router, "/v1"),
           (access.router, "/v1"),
           (workers.router, "/v1"), (sites.router, "/v1"), (coverage.router, "/v1"),
           (plans.router, "/v1"),
           (plan_files.router, "/v1"),
           (ogc.router, "/ogc"), (maps.router, "/maps"), (login.router, "")]

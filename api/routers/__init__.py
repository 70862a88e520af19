"""One router per resource, collected in :data:`api.routers.ROUTERS`."""

from api.routers import access, health, households, membership, ogc, releases, units

ROUTERS = [(health.router, ""), (releases.router, "/v1"), (units.router, "/v1"),
           (households.router, "/v1"), (membership.router, "/v1"), (access.router, "/v1"),
           (ogc.router, "/ogc")]

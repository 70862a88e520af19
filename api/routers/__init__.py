"""One router per resource, collected in :data:`api.routers.ROUTERS`."""

from api.routers import health, households, releases, units

ROUTERS = [(health.router, ""), (releases.router, "/v1"), (units.router, "/v1"),
           (households.router, "/v1")]

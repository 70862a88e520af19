"""One router per resource, collected in :data:`api.routers.ROUTERS`."""

from api.routers import health, releases, units

ROUTERS = [(health.router, ""), (releases.router, "/v1"), (units.router, "/v1")]

"""The one settings object, read from environment variables prefixed ``WANGGE_`` (or .env)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.io.table import TableLimits
from wangge.geo.levels import Level
from wangge.geocode.match import MatchConfig
from wangge.store.users import LoginPolicy


class Settings(BaseSettings):
    """Service settings. Tests pass values directly and ``_env_file=None``."""

    model_config = SettingsConfigDict(env_prefix="WANGGE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/wangge.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql+psycopg://…")
    language: str = Field(default="zh", description="zh or en, for CLI messages")

    overlap_tolerance_m2: float = 1.0
    gap_tolerance_m2: float = 1.0
    outside_tolerance_m2: float = 1.0
    sliver_width_m: float = 1.0
    repair_max_area_change_pct: float = Field(
        default=1.0, ge=0.0, lt=100.0,
        description="--repair refuses to change a unit's area by more than this, in % of the "
                    "area its rings draw")
    code_rule: str = "prefix_serial"
    root_code_digits: int = 6
    # Area ranges per level in m², "min,max"; empty keeps the defaults of wangge.geo.boundaries.rules.
    area_range_street: str = ""
    area_range_community: str = ""
    area_range_grid: str = ""
    area_range_microgrid: str = ""

    max_upload_mb: int = 200

    # Plans: households per unit that the impact measures against, "min,max" (see
    # wangge.geo.plans.impact for where the defaults come from), and the snapping tolerance
    # of drawn outlines.
    households_range_grid: str = "300,500"
    households_range_microgrid: str = "10,150"
    plan_snap_m: float = Field(default=2.0, ge=0.0, le=50.0,
                               description="drawn outlines snap to vertices and edges this near")

    # Heavy requests: reading and validating uploads, imports
    isolate_above_mb: float = Field(
        default=4.0, ge=0.0, description="boundary uploads larger than this are read and validated "
                                         "in a child process (0: always)")
    isolate_time_limit_s: float = Field(
        default=600.0, gt=0.0, description="a child process working longer than this is stopped")
    heavy_per_key: int = Field(
        default=1, ge=0, description="concurrent heavy requests (uploads, imports, assignment) "
                                     "per key in each process (0: no limit)")
    heavy_total: int = Field(
        default=2, ge=0, description="concurrent heavy requests of all callers together in each "
                                     "process (0: no limit)")

    # Households
    geocode_trusted_score: float = Field(
        default=0.8, ge=0.0, le=1.0,
        description="address matches scoring below this are used but flagged for review")
    geocode_far_threshold_m: float = Field(
        default=150.0, gt=0.0,
        description="given coordinates farther than this from the matched building are flagged")
    dask_scheduler: str = Field(default="", description="Dask scheduler address; empty: local")
    geocoder: str = Field(default="none", description="online geocoder: amap, baidu, tianditu, none")
    geocoder_key: SecretStr = Field(default=SecretStr(""), description="the online geocoder's key")

    # Membership API and access control
    anonymous_role: str = Field(
        default="", description="role of callers without a key: empty (refused), viewer or "
                                "integrator; only for a closed intranet or a local demo")
    rate_limit_per_s: float = Field(default=2000.0, ge=0.0,
                                    description="requests per second per key (0: no limit)")
    rate_limit_burst: float = Field(default=4000.0, ge=1.0, description="bucket size per key")
    workers: int = Field(default=1, ge=1, description="service processes (uvicorn --workers); "
                                                      "the rate limit is shared among them")
    max_batch_points: int = Field(default=1_000_000, ge=1,
                                  description="most points in one batch membership request")
    refresh_poll_s: float = Field(default=2.0, gt=0.0,
                                  description="how often each process checks for a new "
                                              "current release, roster, gazetteer or key change")

    # Browser logins (accounts made with `wangge users add`)
    session_idle_minutes: float = Field(
        default=480.0, gt=0.0, description="a browser session unused this long ends (8 h)")
    session_absolute_hours: float = Field(
        default=168.0, gt=0.0, description="a browser session ends this long after login (7 d)")
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins of one account before it must wait")
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="failed logins from one client address before it must wait")
    login_backoff_s: float = Field(
        default=30.0, gt=0.0, description="the first wait; it doubles with each further failure")
    login_backoff_max_s: float = Field(default=900.0, gt=0.0, description="the longest wait")
    cookie_secure: str = Field(
        default="auto", description="Secure flag of the session cookies: auto (when the request "
                                    "came over https) or always")
    trust_forwarded_proto: bool = Field(
        default=False, description="take X-Forwarded-Proto: https from a TLS-terminating proxy "
                                   "as https (only behind such a proxy)")

    @field_validator("cookie_secure")
    @classmethod
    def _cookie_secure(cls, v: str) -> str:
        if v not in ("auto", "always"):
            raise ValueError("cookie_secure must be auto or always")
        return v

    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(max_failures=self.login_max_failures,
                           max_failures_per_address=self.login_max_failures_per_address,
                           backoff_s=self.login_backoff_s,
                           backoff_max_s=max(self.login_backoff_s, self.login_backoff_max_s))

    def session_limits(self) -> tuple[timedelta, timedelta]:
        """(idle, absolute): how long a browser session lives unused, and at most."""
        return (timedelta(minutes=self.session_idle_minutes),
                timedelta(hours=self.session_absolute_hours))

    # Coverage
    walking_speed_kmh: float = Field(default=4.8, gt=0.5, le=10.0,
                                     description="walking speed for the service circles")
    coverage_minutes: str = Field(default="5,10,15",
                                  description="service-circle thresholds in minutes, e.g. 5,10,15")
    catchment_buffer_m: float = Field(default=50.0, gt=0.0, le=500.0,
                                      description="catchment polygons: buffer around reached streets")
    detour_factor: float = Field(default=1.3, ge=1.0, le=3.0,
                                 description="without a network: straight line times this")

    @field_validator("coverage_minutes")
    @classmethod
    def _minutes(cls, v: str) -> str:
        try:
            values = [float(x) for x in v.split(",")]
        except ValueError as exc:
            raise ValueError("coverage_minutes is a list of minutes such as 5,10,15") from exc
        if not values or any(not 0 < x <= 120 for x in values) or values != sorted(set(values)):
            raise ValueError("coverage_minutes must be increasing minutes in (0, 120]")
        return v

    def thresholds(self) -> tuple[float, ...]:
        return tuple(float(x) for x in self.coverage_minutes.split(","))

    # Maps
    map_tiles: str = Field(default="auto", description="default base map: auto (tianditu when "
                           "WANGGE_TIANDITU_KEY is set, else amap: both load in mainland China), "
                           "osm, amap, tencent, tianditu or none (offline)")
    tianditu_key: SecretStr = Field(default=SecretStr(""), description="Tianditu developer key (tk)")
    warm_maps: bool = Field(
        default=False,
        description="prepare the current release's household counts, coverage and plan base "
                    "in the background when the service starts (``wangge serve`` turns it on), "
                    "so the first leader to open a map or planner to open a plan does not wait")
    rewarm_settle_s: float = Field(
        default=10.0, ge=0.0,
        description="with warm_maps, warm again once the store changed (another current "
                    "release, a write to households, sites, workers or networks) and then "
                    "stayed the same this long")
    map_inline_units: int = Field(
        default=500, ge=0,
        description="a map page served by the API inlines a level with at most this many units; "
                    "larger levels load in tiles as the map is moved (written files inline all)")

    # Tables read from files: registers, rosters, site lists, gazetteer CSVs
    table_max_rows: int = Field(default=2_000_000, ge=1, description="data rows of a table")
    table_max_columns: int = Field(default=200, ge=1, description="columns of a table")
    table_max_cells: int = Field(default=50_000_000, ge=1, description="data rows × columns")
    table_max_unzipped_mb: int = Field(default=500, ge=1,
                                       description="an .xlsx uncompressed, all members together")
    table_max_zip_ratio: float = Field(default=100.0, ge=1.0,
                                       description="compression ratio of any .xlsx member above "
                                                   "1 MiB (zip bombs)")

    @field_validator("map_tiles")
    @classmethod
    def _tiles(cls, v: str) -> str:
        if v not in ("auto", "osm", "amap", "tencent", "tianditu", "none"):
            raise ValueError("map_tiles must be auto, osm, amap, tencent, tianditu or none")
        return v

    @model_validator(mode="after")
    def _resolve_tiles(self) -> Settings:
        """``auto`` becomes a concrete base map here, at the edge, so every page, link and file
        names the base map it uses (wangge.maps.tiles.resolve_tiles)."""
        if self.map_tiles == "auto":
            self.map_tiles = "tianditu" if self.tianditu_key.get_secret_value() else "amap"
        return self

    @field_validator("anonymous_role")
    @classmethod
    def _anonymous(cls, v: str) -> str:
        if v not in ("", "viewer", "integrator"):
            raise ValueError("anonymous_role must be empty, viewer or integrator")
        return v

    @field_validator("code_rule")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        if v not in ("prefix_serial", "none"):
            raise ValueError("code_rule must be prefix_serial or none")
        return v

    @field_validator("area_range_street", "area_range_community", "area_range_grid",
                     "area_range_microgrid")
    @classmethod
    def _area_range(cls, v: str) -> str:
        if v:
            try:
                low, high = (float(x) for x in v.split(","))
            except ValueError as exc:
                raise ValueError("an area range is 'min,max' in m², e.g. 2000,60000000") from exc
            if not 0 <= low <= high:
                raise ValueError("an area range needs 0 <= min <= max")
        return v

    @field_validator("households_range_grid", "households_range_microgrid")
    @classmethod
    def _households_range(cls, v: str) -> str:
        try:
            low, high = (int(x) for x in v.split(","))
        except ValueError as exc:
            raise ValueError("a households range is 'min,max', e.g. 300,500") from exc
        if not 0 <= low <= high:
            raise ValueError("a households range needs 0 <= min <= max")
        return v

    def household_ranges(self) -> dict[Level, tuple[int, int]]:
        """Households per grid and micro-grid a plan's impact measures against."""
        out = {}
        for level in (Level.GRID, Level.MICROGRID):
            low, high = (int(x) for x in getattr(self, f"households_range_{level.value}").split(","))
            out[level] = (low, high)
        return out

    @field_validator("language")
    @classmethod
    def _known_language(cls, v: str) -> str:
        if v not in ("zh", "en"):
            raise ValueError("language must be zh or en")
        return v

    def match_config(self) -> MatchConfig:
        return MatchConfig(trusted_score=self.geocode_trusted_score,
                           far_threshold_m=self.geocode_far_threshold_m)

    def table_limits(self) -> TableLimits:
        return TableLimits(max_rows=self.table_max_rows, max_columns=self.table_max_columns,
                           max_cells=self.table_max_cells,
                           max_unzipped_bytes=self.table_max_unzipped_mb << 20,
                           max_zip_ratio=self.table_max_zip_ratio)

    def validation_config(self) -> ValidationConfig:
        base = ValidationConfig()
        ranges = dict(base.area_ranges_m2)
        for level in Level:
            raw = getattr(self, f"area_range_{level.value}")
            if raw:
                low, high = (float(x) for x in raw.split(","))
                ranges[level] = (low, high)
        return ValidationConfig(
            overlap_tolerance_m2=self.overlap_tolerance_m2, gap_tolerance_m2=self.gap_tolerance_m2,
            outside_tolerance_m2=self.outside_tolerance_m2, sliver_width_m=self.sliver_width_m,
            repair_max_area_change_pct=self.repair_max_area_change_pct,
            code_rule=self.code_rule, root_code_digits=self.root_code_digits,
            area_ranges_m2=ranges)

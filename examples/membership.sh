#!/usr/bin/env bash
# wangge with curl: which grid is a location in, a batch of points, and the OGC API.
#
#   WANGGE_URL=http://127.0.0.1:8000 WANGGE_KEY=wg_… bash examples/membership.sh
#
# The points are in the demo district (scripts/demo); a key comes from
# `wangge keys create "示例" --role integrator`. tests/test_examples.py runs this script
# against a served demo.
set -euo pipefail
URL=${WANGGE_URL:-http://127.0.0.1:8000}
KEY=${WANGGE_KEY:?"set WANGGE_KEY to an API key (wangge keys create …)"}
get() { curl -fsS -H "X-API-Key: $KEY" "$@"; }

echo "== 1. 一个点（GCJ-02，手机地图上取的坐标）/ one point in GCJ-02"
get "$URL/v1/membership?lon=120.1646&lat=33.3894&crs=GCJ-02"
echo

echo "== 2. 一批点（JSON）/ a batch of points as JSON"
get -X POST "$URL/v1/membership" -H "Content-Type: application/json" \
  -d '{"crs": "GCJ-02", "ids": ["a", "b"], "points": [[120.2057, 33.3987], [120.1613, 33.3479]]}'
echo

echo "== 3. 一批点（CSV 进，CSV 出）/ a batch as CSV, answered as CSV"
printf 'id,lon,lat\na,120.2009,33.4002\n' |
  get -X POST "$URL/v1/membership?format=csv" -H "Content-Type: text/csv" --data-binary @-
echo

echo "== 4. OGC API：某社区的网格（按可查询属性过滤）/ OGC API: the grids of one community"
get "$URL/ogc/collections/grid/queryables"
echo
get "$URL/ogc/collections/grid/items?parent_code=320902004005&limit=1000"
echo

"""Online geocoders (AMap, Baidu, Tianditu): ``base`` (interface, HTTP with limits),
``providers`` (one class each) and ``client`` (the fallback for unmatched rows)."""

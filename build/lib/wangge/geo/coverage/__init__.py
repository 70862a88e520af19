"""Walking coverage: networks, nearest streets, catchments (service circles), coverage per unit,
and where new service sites would reach the most households (MCLP)."""

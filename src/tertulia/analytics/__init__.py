"""Analytics: metrics from the networks, daily rollups, objectives and dashboards (docs/analytics.md)."""

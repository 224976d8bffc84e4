"""Monitoring derived from the catalog: scrape jobs, alert rules, routing, dashboards, logs."""

"""Compose files in: loading (interpolation, .env, schema validation) and conversion to the catalog."""

"""The files each service receives, rendered from (catalog, service, settings): one registry."""

"""Lambda handlers that a service deploys as they are, configured by their environment."""

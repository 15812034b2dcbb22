"""The inventory service: the catalog and its stock, reserved, released and committed as orders
come and go, every change published as a domain event."""

# The service's name: its stack is `<service>-<stage>`, its functions' POWERTOOLS_SERVICE_NAME.
SERVICE = "inventory"

"""The inventory service: the catalog and its stock, reserved, released and committed as orders
come and go, every change published as a domain event."""

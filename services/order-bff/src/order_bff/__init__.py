"""order-bff."""

SERVICE = "order-bff"

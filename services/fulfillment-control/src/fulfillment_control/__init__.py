"""The fulfillment control service: collects every event of an order, evaluates its rules over
the collected set and emits the next fact (fulfillment requested, cancelled, expired)."""

# The service's name: its stack is `<service>-<stage>`, its functions' POWERTOOLS_SERVICE_NAME.
SERVICE = "fulfillment-control"
# The `tags.source` of the one event the service both produces and collects, its payment window's
# close: not the service's own name, which its listener skips as its own (shop-streams).
TIMER_SOURCE = f"{SERVICE}.timers"

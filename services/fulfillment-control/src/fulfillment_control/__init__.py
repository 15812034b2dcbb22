"""The fulfillment control service: collects every event of an order, evaluates its rules over
the collected set and emits the next fact (fulfillment requested, cancelled, expired)."""

# The service's name: its stack is `<service>-<stage>`, its functions' POWERTOOLS_SERVICE_NAME.
SERVICE = "fulfillment-control"
# The `tags.source` of the events the service both produces and collects, its timers' (the
# payment and cancellation windows' close): not the service's own name, which its listener
# skips as its own (shop-streams).
TIMER_SOURCE = f"{SERVICE}.timers"

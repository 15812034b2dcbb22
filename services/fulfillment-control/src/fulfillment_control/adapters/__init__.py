"""The adapters of the two ports: DynamoDB for the event store, EventBridge Scheduler for the
timers, and an in-memory twin of each for tests and benchmarks."""

"""The event hub's own code: the park function and the store of parked faults it writes."""

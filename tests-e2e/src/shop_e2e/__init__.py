"""The shop from the outside: a customer's client, the journeys, the demo, the end-to-end tests."""

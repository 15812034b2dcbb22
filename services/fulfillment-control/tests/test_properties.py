"""The control service's promise, as properties: the facts of an order are those of its set of
events, whatever order and duplication the events arrive in, and there is exactly one terminal
fact per order.

A journey is what the shop does for one order, in time: it is placed, the inventory answers (at
once: before the window closes), the customer may pay (in time, late, or with a failure) and may
ask to cancel. Run once in time order, with the order's timer firing as time passes (its payment
window, or the cancellation window a request to cancel an unpaid order replaces it with), it
gives the set of events the order has (the timer's among them, when the order had not ended by
then) and the facts the service decides.
Then the same set, shuffled and with duplicates, is collected into a fresh service one event at a
time, with an evaluation after each (the trigger's worst case): the facts must be the same.

One kind of journey is left out of that property, and held to the weaker one below: a customer
paying (or failing to) after asking to cancel. The storefront takes no payment for an order whose
cancellation was requested; if one comes all the same and arrives before the request, it decides
the order before the request is known, and no rule over what has arrived can see an event still
on its way (decision 0016). For every set of events at all, racing ones included, the service
still records exactly one outcome once the set decides one, and never a fact that contradicts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fulfillment_control.adapters.memory import InMemoryEventStore, InMemoryTimers
from fulfillment_control.domain import Collected, EventType, Fact
from fulfillment_control.model import Collector, FulfillmentControl
from fulfillment_control.rulebook import History, evaluate
from hypothesis import assume, given, settings
from hypothesis import strategies as st

ORDER = "order-1"
WINDOW_SECONDS = 20
CANCELLATION_WINDOW_SECONDS = 2
PLACED_AT = 1_700_000_000_000
WINDOW_CLOSES_AT = PLACED_AT + WINDOW_SECONDS * 1000


@dataclass
class Shop:
    """One control service over in-memory ports, driven as its listener and trigger drive it."""

    store: InMemoryEventStore
    timers: InMemoryTimers
    control: FulfillmentControl
    now: int

    @classmethod
    def open(cls, now: int = PLACED_AT) -> Shop:
        store, timers = InMemoryEventStore(), InMemoryTimers()
        shop = cls(store, timers, None, now)  # type: ignore[arg-type]
        shop.control = FulfillmentControl(
            store,
            timers,
            payment_window_seconds=WINDOW_SECONDS,
            cancellation_window_seconds=CANCELLATION_WINDOW_SECONDS,
            clock=lambda: shop.now,
        )
        return shop

    def deliver(self, event: Collected) -> None:
        """The listener collects it; its INSERT on the table's stream has the trigger evaluate."""
        if Collector(self.store).collect(event):
            self.control.evaluate(event.order_id, arrived=event.type)

    def advance(self, to: int) -> None:
        """Time passes: the timers due fire, each putting its event on the bus."""
        self.now = max(self.now, to)
        for closed in self.timers.due(self.now):
            self.deliver(closed)

    def facts(self) -> set[tuple[str, str, str | None]]:
        return {(f.type, f.rule, f.reason) for f in self.store.facts(ORDER)}

    def terminal_facts(self) -> list[Fact]:
        return [fact for fact in self.store.facts(ORDER) if fact.terminal]


def event(kind: EventType, at: int, n: int = 0) -> Collected:
    return Collected(at, f"{kind}-{n}", kind, ORDER)


# ---- journeys ----------------------------------------------------------------------------------

seconds = st.integers(min_value=0, max_value=40_000)  # ms after placing: the window is 20,000


@st.composite
def journeys(draw: st.DrawFn, *, realistic: bool = True) -> list[Collected]:
    """The external events of one order, in no particular order."""
    answer = draw(st.sampled_from([EventType.INVENTORY_RESERVED, EventType.RESERVATION_FAILED]))
    events = [
        event(EventType.ORDER_PLACED, PLACED_AT),
        # The inventory answers at once, in any case before the window closes.
        event(answer, PLACED_AT + draw(st.integers(1, WINDOW_SECONDS * 1000 - 1))),
    ]
    payment = draw(st.sampled_from([None, EventType.PAYMENT_SUCCEEDED, EventType.PAYMENT_FAILED]))
    if payment is not None:
        events.append(event(payment, PLACED_AT + draw(seconds)))
    if draw(st.booleans()):
        events.append(event(EventType.CANCELLATION_REQUESTED, PLACED_AT + draw(seconds)))
    if realistic and answer is EventType.INVENTORY_RESERVED:
        times = {e.type: e.occurred_at for e in events}
        requested = times.get(EventType.CANCELLATION_REQUESTED)
        paid = times.get(EventType.PAYMENT_SUCCEEDED, times.get(EventType.PAYMENT_FAILED))
        # No payment attempt after a request to cancel (see the module's docstring).
        assume(requested is None or paid is None or paid < requested or paid > WINDOW_CLOSES_AT)
    return events


def run_in_time(external: list[Collected]) -> Shop:
    """The journey as it happens: each event delivered at its time, the timers firing between."""
    shop = Shop.open()
    for happening in sorted(external):
        shop.advance(happening.occurred_at)
        shop.deliver(happening)
    shop.advance(WINDOW_CLOSES_AT + 60_000)
    return shop


@st.composite
def deliveries(draw: st.DrawFn, collected: list[Collected]) -> list[Collected]:
    """Every event, in any order, some of them more than once (at least once each)."""
    duplicates = draw(st.lists(st.sampled_from(collected), max_size=len(collected)))
    return draw(st.permutations([*collected, *duplicates]))


@settings(max_examples=150)
@given(st.data())
def test_the_facts_are_those_of_the_set_whatever_the_order_and_duplicates(
    data: st.DataObject,
) -> None:
    # Given an order's journey, run in time: the set of events it has, the timer's included
    external = data.draw(journeys())
    in_time = run_in_time(external)
    collected = sorted(in_time.store.record_of(ORDER).events)

    # When that set arrives shuffled and duplicated, an evaluation after each arrival
    shuffled = Shop.open()
    for arrival in data.draw(deliveries(collected)):
        shuffled.deliver(arrival)

    # Then the same facts are recorded (hence published), exactly one of them terminal
    assert shuffled.facts() == in_time.facts()
    assert len(shuffled.terminal_facts()) == 1
    assert len(in_time.terminal_facts()) == 1
    # and they are the rulebook's for the whole set
    history = History.of(collected, payment_window_ms=WINDOW_SECONDS * 1000)
    assert {rule.id for rule in evaluate(history).rules} == {rule for _, rule, _ in in_time.facts()}


@st.composite
def arbitrary_sets(draw: st.DrawFn) -> list[Collected]:
    """Any events at all for one order, any times, racing ones included (a payment after a
    failure, a payment in time after the timer's event, a payment after a cancellation)."""
    kinds = draw(st.lists(st.sampled_from(list(EventType)), min_size=1, max_size=8))
    return [
        event(
            kind,
            WINDOW_CLOSES_AT
            if kind is EventType.PAYMENT_WINDOW_CLOSED
            else PLACED_AT + draw(seconds),
            n,
        )
        if kind is not EventType.ORDER_PLACED
        else event(kind, PLACED_AT, n)
        for n, kind in enumerate(kinds)
    ]


@settings(max_examples=150)
@given(st.data())
def test_any_set_in_any_order_ends_with_one_outcome_and_nothing_that_contradicts_it(
    data: st.DataObject,
) -> None:
    collected = data.draw(arbitrary_sets())

    shop = Shop.open()
    for arrival in data.draw(deliveries(collected)):
        shop.deliver(arrival)

    terminal = shop.terminal_facts()
    assert len(terminal) <= 1
    decides = evaluate(History.of(collected, payment_window_ms=WINDOW_SECONDS * 1000)).outcome
    if decides is not None:
        assert len(terminal) == 1, "a set that decides an outcome has one recorded"
    rules = {rule for _, rule, _ in shop.facts()}
    if "cancellation-rejected" in rules:
        assert terminal[0].rule == "fulfillment", "only a fulfilled order rejects a cancellation"


@settings(max_examples=50)
@given(journeys())
def test_an_order_that_ended_keeps_no_timer(external: list[Collected]) -> None:
    shop = run_in_time(external)

    assert shop.terminal_facts()
    assert shop.timers.pending(ORDER) is None

// The storefront stub: GraphQL over HTTP to the shop's BFF with a customer's bearer token, and
// Stripe's confirm of a PaymentIntent with the publishable key, as Stripe.js would send it.
// Everything it needs to know comes from config.json beside it (see README.md).

const POLL_MS = 500;
const TERMINAL = new Set(["FULFILLMENT_REQUESTED", "CANCELLED", "EXPIRED"]);
const CARDS = { succeeds: "pm_card_visa", declined: "pm_card_chargeDeclined" };
const TOKEN_KEY = "storefront.session";

const ORDER_FIELDS = `id status cancellationReason
  lines { sku name quantity unitPrice { amount currency } }
  total { amount currency }
  payment { status clientSecret }
  history { type at }
  createdAt updatedAt`;
const PRODUCTS = `query Products($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    edges { node { sku name available price { amount currency } } }
    pageInfo { hasNextPage endCursor } } }`;
const ORDER = `query Order($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
// The list asks only what it shows: never a client secret, each of which the BFF would unseal.
const MY_ORDERS = `query MyOrders($first: Int!) {
  myOrders(first: $first) { edges { node { id status total { amount currency } createdAt } } } }`;
const PLACE_ORDER = `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { ${ORDER_FIELDS} } } }`;
const CANCEL_ORDER = `mutation CancelOrder($id: ID!) {
  cancelOrder(id: $id) { order { ${ORDER_FIELDS} } } }`;

const $ = (id) => document.getElementById(id);
let config;
let session = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
let shown = null; // the order in the order panel
let poller = null;
let following = null; // the id of the order being polled

/** A refusal with the code the shop gave it: a GraphQL error's extensions.code, else HTTP_<status>. */
class ShopError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function graphql(query, variables = {}) {
  let answer;
  try {
    answer = await fetch(config.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ShopError("NETWORK", `the shop's API did not answer (${error.message})`);
  }
  const body = await answer.json().catch(() => ({}));
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new ShopError(first.extensions?.code || `HTTP_${answer.status}`, first.message);
  }
  if (!answer.ok || !body.data) {
    throw new ShopError(`HTTP_${answer.status}`, body.message || answer.statusText);
  }
  return body.data;
}

/** What Stripe.js's confirmCardPayment sends: the publishable key and the intent's client secret. */
async function confirmPayment(clientSecret, paymentMethod) {
  const intentId = clientSecret.split("_secret_")[0];
  const answer = await fetch(`${config.stripeUrl.replace(/\/$/, "")}/v1/payment_intents/${intentId}/confirm`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${config.stripePublishableKey}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ payment_method: paymentMethod, client_secret: clientSecret }),
  });
  const body = await answer.json();
  if (answer.ok) return { intent: body, declined: null };
  if (answer.status === 402 && body.error?.payment_intent) {
    return { intent: body.error.payment_intent, declined: body.error };
  }
  throw new ShopError(`STRIPE_${answer.status}`, body.error?.message || answer.statusText);
}

// -- rendering ---------------------------------------------------------------------------------

function money({ amount, currency }) {
  return new Intl.NumberFormat("en-IE", { style: "currency", currency }).format(amount / 100);
}

function time(iso) {
  const at = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  const millis = String(at.getMilliseconds()).padStart(3, "0");
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${millis}`;
}

function element(tag, { dataset = {}, ...properties } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

function showError(error) {
  const box = $("error");
  box.textContent = error instanceof ShopError ? `${error.code}: ${error.message}` : String(error);
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

/** Runs an action from a button, showing its refusal; the button is disabled meanwhile. */
function action(button, run) {
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    clearError();
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}

function renderSession() {
  $("sign-in-form").hidden = Boolean(session);
  $("signed-in").hidden = !session;
  $("shop").hidden = !session;
  $("signed-in-as").textContent = session?.customer || "";
}

function renderProducts(products) {
  const rows = products.map((product) => {
    const quantity = element("input", {
      type: "number", min: 1, value: 1, className: "quantity",
      ariaLabel: `Quantity of ${product.name}`, dataset: { testid: `quantity-${product.sku}` },
    });
    const order = element("button", {
      type: "button", textContent: "Order", ariaLabel: `Order ${product.name}`,
      dataset: { testid: `order-${product.sku}` },
    });
    action(order, () => placeOrder(product.sku, Number(quantity.value)));
    return element("tr", { dataset: { testid: `product-${product.sku}` } },
      element("td", {}, element("span", { className: "name", textContent: product.name }),
        element("code", { className: "sku", textContent: product.sku })),
      element("td", { className: "num", textContent: money(product.price) }),
      element("td", { className: "num", textContent: String(product.available), dataset: { testid: `available-${product.sku}` } }),
      element("td", {}, quantity),
      element("td", {}, order));
  });
  $("products").tBodies[0].replaceChildren(...rows);
}

function statusBadge(status) {
  return element("span", { className: `status status-${status.toLowerCase()}`, textContent: status.replaceAll("_", " ") });
}

function renderOrder(order) {
  shown = order;
  $("order").hidden = false;
  $("order-id").textContent = order.id;
  const status = $("order-status");
  status.textContent = order.status.replaceAll("_", " ");
  status.dataset.status = order.status;
  status.className = `status status-${order.status.toLowerCase()}`;
  const reason = $("order-reason");
  reason.hidden = !order.cancellationReason;
  reason.textContent = order.cancellationReason ? `reason: ${order.cancellationReason}` : "";
  reason.dataset.reason = order.cancellationReason || "";
  $("order-lines").replaceChildren(...order.lines.map((line) =>
    element("div", { textContent: `${line.quantity} × ${line.name} at ${money(line.unitPrice)}` })));
  $("order-total").textContent = money(order.total);
  $("order-payment").textContent = order.payment ? order.payment.status : "not yet requested";
  const payable = order.status === "AWAITING_PAYMENT" && order.payment?.clientSecret && order.payment.status === "PENDING";
  $("pay").hidden = !payable;
  $("cancel-order").hidden = TERMINAL.has(order.status);
  const first = order.history.length ? new Date(order.history[0].at).getTime() : 0;
  $("timeline").replaceChildren(...order.history.map((entry) =>
    element("li", { dataset: { testid: "timeline-entry", type: entry.type } },
      element("time", { dateTime: entry.at, textContent: time(entry.at) }),
      element("span", { className: "since", textContent: `+${new Date(entry.at).getTime() - first} ms` }),
      element("span", { className: "event", textContent: entry.type }))));
}

function renderMyOrders(orders) {
  $("no-orders").hidden = orders.length > 0;
  $("my-orders").tBodies[0].replaceChildren(...orders.map((order) => {
    const view = element("button", { type: "button", className: "quiet", textContent: "View", ariaLabel: `View order ${order.id}` });
    action(view, () => {
      $("payment-message").hidden = true;
      return follow(order.id);
    });
    return element("tr", { dataset: { testid: `my-order-${order.id}` } },
      element("td", {}, element("code", { textContent: order.id })),
      element("td", { textContent: new Date(order.createdAt).toLocaleString("en-GB") }),
      element("td", {}, statusBadge(order.status)),
      element("td", { className: "num", textContent: money(order.total) }),
      element("td", {}, view));
  }));
}

// -- what the customer does -------------------------------------------------------------------------

async function signIn(customer) {
  const answer = await fetch(config.signInUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ShopError(`HTTP_${answer.status}`, body.message || "sign-in refused");
  session = { customer: body.customer, token: body.token };
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  renderSession();
  await Promise.all([loadProducts(), loadMyOrders()]);
}

function signOut() {
  stopPolling();
  session = null;
  shown = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("order").hidden = true;
  renderSession();
}

async function loadProducts() {
  const products = [];
  let after = null;
  for (;;) {
    const page = (await graphql(PRODUCTS, { first: 100, after })).products;
    products.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  renderProducts(products);
}

async function loadMyOrders() {
  const { myOrders } = await graphql(MY_ORDERS, { first: 20 });
  renderMyOrders(myOrders.edges.map((edge) => edge.node));
}

async function placeOrder(sku, quantity) {
  const input = { lines: [{ sku, quantity }], idempotencyKey: crypto.randomUUID() };
  const { placeOrder: placed } = await graphql(PLACE_ORDER, { input });
  $("payment-message").hidden = true;
  renderOrder(placed.order);
  follow(placed.order.id);
  loadMyOrders().catch(showError);
}

async function pay(card) {
  const message = $("payment-message");
  const { declined } = await confirmPayment(shown.payment.clientSecret, CARDS[card]);
  message.hidden = false;
  message.className = declined ? "declined" : "paid";
  message.textContent = declined
    ? `Payment declined: ${declined.message} (${declined.decline_code || declined.code})`
    : "Payment accepted by Stripe: the shop is told by Stripe's webhook.";
  message.dataset.outcome = declined ? "declined" : "succeeded";
  $("pay").hidden = true;
}

async function cancelShown() {
  const { cancelOrder } = await graphql(CANCEL_ORDER, { id: shown.id });
  renderOrder(cancelOrder.order);
  follow(cancelOrder.order.id); // a request: fulfillment-control decides, the status tells
}

function stopPolling() {
  if (poller) clearTimeout(poller);
  poller = null;
  following = null;
}

/** Shows the order and asks for it every POLL_MS until its status is terminal. An answer for an
 * order no longer followed (the customer viewed another, or signed out) is dropped. */
async function follow(orderId) {
  stopPolling();
  following = orderId;
  const round = async () => {
    try {
      const { order } = await graphql(ORDER, { id: orderId });
      if (following !== orderId) return;
      if (!order) throw new ShopError("NOT_FOUND", `no order ${orderId} of yours`);
      renderOrder(order);
      if (TERMINAL.has(order.status)) {
        following = null;
        // Its stock is committed or back: the catalog's numbers have moved.
        Promise.all([loadMyOrders(), loadProducts()]).catch(showError);
        return;
      }
    } catch (error) {
      if (following !== orderId) return;
      showError(error);
    }
    poller = setTimeout(round, POLL_MS);
  };
  await round();
}

// -- start -------------------------------------------------------------------------------------

async function start() {
  try {
    const answer = await fetch("config.json", { cache: "no-store" });
    if (!answer.ok) throw new ShopError(`HTTP_${answer.status}`, "no config.json beside the storefront");
    config = await answer.json();
    for (const name of ["graphqlUrl", "stripeUrl", "stripePublishableKey", "signInUrl"]) {
      if (!config[name]) throw new ShopError("CONFIG", `config.json has no ${name}`);
    }
  } catch (error) {
    $("loading").textContent = "The storefront could not start.";
    showError(error);
    return;
  }
  $("loading").hidden = true;
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      await signIn($("customer").value.trim());
    } catch (error) {
      showError(error);
    }
  });
  $("sign-out").addEventListener("click", signOut);
  action($("pay-success"), () => pay("succeeds"));
  action($("pay-decline"), () => pay("declined"));
  action($("cancel-order"), cancelShown);
  action($("refresh-orders"), loadMyOrders);
  renderSession();
  if (session) await Promise.all([loadProducts(), loadMyOrders()]).catch(showError);
}

start();

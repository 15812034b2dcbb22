"""The local cloud: every part started together, every stack deployed into it, stopped as one."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from localcloud import headers
from localcloud.aws import Aws
from localcloud.deploy import DeployedStack, DeployError, TemplateError
from localcloud.deploy.create import deploy
from localcloud.deploy.package import package
from localcloud.endpoints import remove_endpoints, write_endpoints
from localcloud.event_sources import EventSourceRunner
from localcloud.eventbridge import RuleDelivery
from localcloud.eventbridge.put_events import ENDPOINT_VARIABLE, EventsApiServer
from localcloud.http_api import CUSTOMER_AUDIENCE, HttpApiServer, LocalSigningKey
from localcloud.lambda_.functions import FunctionSpec
from localcloud.lambda_.host import DEFAULT_CONCURRENCY, LambdaHost
from localcloud.lambda_.invoke_api import LambdaApiServer
from localcloud.lifecycle import Part
from localcloud.logs import LOG_FILE, PREVIOUS_LOG_FILE, file_handler
from localcloud.moto import MotoServer
from localcloud.site import StorefrontSite
from localcloud.stripe import FakeStripe
from localcloud.timers import ScheduleRunner, TtlSweeper
from localcloud.trail import PREVIOUS_TRAIL_FILE, TRAIL_FILE, EventTrail

logger = logging.getLogger(__name__)

PACKAGE_CACHE_VARIABLE = "LOCALCLOUD_PACKAGE_CACHE"

# "<service>:<path>" of the GraphQL route a storefront calls: the shop's backend for frontend.
STOREFRONT_API = "order-bff:/graphql"
# The stage parameter of that service's serverless.yml naming the one origin its CORS allows.
STOREFRONT_ORIGIN_PARAM = "storefrontOrigin"
# The output of the webhook service's stack naming the Stripe event types its endpoint enables.
STRIPE_WEBHOOK_EVENTS_OUTPUT = "StripeWebhookEvents"


@dataclass
class StackFailure:
    source_dir: Path
    error: str


@dataclass
class LocalCloud(Part):
    """Start it, deploy stacks into it, read its endpoints, stop it (or use it as a context)."""

    state_dir: Path
    serverless: Path
    stage: str = "local"
    # "<service>:<path>": where the fake Stripe sends its webhooks. That service is the one that
    # talks to Stripe, so its secrets are put into SSM for it at start (`stripe_parameters`).
    stripe_webhook: str | None = None
    # The most execution environments of one function that reserves none (decision 0017).
    lambda_concurrency: int = DEFAULT_CONCURRENCY
    # A folder with a storefront's index.html, served on `storefront_port` (0: any free one), its
    # config.json pointing at `storefront_api`; every stack is packaged with the site's origin as
    # `storefrontOrigin`, so the API's CORS allows exactly that origin (decision 0020).
    storefront: Path | None = None
    storefront_port: int = 0
    storefront_api: str = STOREFRONT_API
    site: StorefrontSite | None = None
    # Where packages are kept for reuse, keyed by their inputs (`package`): LOCALCLOUD_PACKAGE_CACHE,
    # which `make` sets to .cache/localcloud-packages; none by default.
    package_cache: Path | None = field(default_factory=lambda: _package_cache_from_environment())
    stacks: list[DeployedStack] = field(default_factory=list)
    failures: list[StackFailure] = field(default_factory=list)
    http_apis: dict[str, HttpApiServer] = field(default_factory=dict)

    def start(self) -> Self:
        self.state_dir = self.state_dir.resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        # A cloud killed with -9 left its endpoints behind: until this one has written its own,
        # nobody should find a cloud here.
        remove_endpoints(self.state_dir)
        # Every part of this process speaks HTTP: its APIs read requests, its clients read moto's
        # answers, each header block through the email parser unless plain ones are split here.
        headers.parse_plain_headers_quickly()
        # First, so that a taken port or a folder without a storefront stops the start at once;
        # and the site's origin is known before any stack is packaged.
        if self.storefront is not None:
            self.site = StorefrontSite(
                self.storefront,
                config=self.storefront_config,
                issue_token=self._customer_token,
                port=self.storefront_port,
            )
        # Each run starts a trail and a log of its own; the previous run's are kept aside, once.
        _keep_aside(self.state_dir / TRAIL_FILE, self.state_dir / PREVIOUS_TRAIL_FILE)
        _keep_aside(self.state_dir / LOG_FILE, self.state_dir / PREVIOUS_LOG_FILE)
        self._log_handler = file_handler(self.state_dir / LOG_FILE)
        logging.getLogger("localcloud").addHandler(self._log_handler)
        self.moto = MotoServer(log_file=self.state_dir / "logs" / "moto.log").start()
        self.aws = Aws(self.moto.url)
        self.lambdas = LambdaHost(
            self.aws,
            python=sys.executable,
            log_dir=self.state_dir / "logs",
            concurrency=self.lambda_concurrency,
            after_invocation=self._wake_streams_with_news,
        ).start()
        self.ttl = TtlSweeper(self.aws)
        self.event_sources = EventSourceRunner(
            self.aws, self.lambdas.invoke, ttl_deletes=self.ttl.deletes
        )
        self.rule_delivery = RuleDelivery(
            self.aws, self.lambdas.invoke, on_stream_put=self.event_sources.wake
        )
        self.trail = EventTrail(self.aws, file=self.state_dir / TRAIL_FILE)
        self.events_api = EventsApiServer(self.aws, self.rule_delivery, self.trail).start()
        # Scheduled events go onto their bus the way the functions' events do.
        self.schedules = ScheduleRunner(
            self.aws, self.lambdas.invoke, put_events=self._put_events_locally
        )
        self.signing_key = LocalSigningKey.load_or_create(self.state_dir / "jwt-key.json")
        self.stripe = FakeStripe().start()
        self._seed_stripe_parameters()
        self.lambda_api = LambdaApiServer(
            self.lambdas.invoke, exists=lambda name: name in self.lambdas.functions
        ).start()
        self.ttl.start()
        self.schedules.start()
        if self.site is not None:
            self.site.start()
        logger.info("local cloud started", extra={"aws": self.aws.endpoint})
        return self

    def deploy(self, source_dir: Path) -> DeployedStack | None:
        """Package and deploy one stack; a stack that fails is reported and the rest goes on."""
        try:
            packaged = package(
                source_dir,
                stage=self.stage,
                output_dir=self.state_dir / "packages" / source_dir.resolve().name,
                serverless=self.serverless,
                params=self._stack_params(),
                cache_dir=self.package_cache,
            )
            stack = deploy(self.aws, packaged, code_root=self.state_dir / "functions")
        except (DeployError, TemplateError) as error:
            self.failures.append(StackFailure(source_dir, str(error)))
            logger.error(
                "stack not deployed", extra={"source": str(source_dir), "error": str(error)}
            )
            return None
        for function in stack.functions:
            # Functions put events through the local cloud's own PutEvents (the fast path).
            # and reach Stripe at the fake one, through the SDK's own base address setting.
            environment = {
                ENDPOINT_VARIABLE: self.events_api.url,
                "STRIPE_API_BASE": self.stripe.url,
                **function.environment,
            }
            self.lambdas.deploy(replace(function, environment=environment))
        for mapping in stack.mappings:
            self.event_sources.add(mapping)
        for target in stack.rule_targets:
            self.rule_delivery.add(target)
        for bus in stack.buses:
            self.trail.watch(bus)
        if stack.routes:
            server = HttpApiServer(
                stack.routes,
                self.lambdas.invoke,
                self.signing_key,
                name=stack.name,
                cors=stack.http_api_cors,
            ).start()
            self.http_apis[_service_of(stack.name, self.stage)] = server
        self.stacks.append(stack)
        self._connect_stripe_webhook()
        return stack

    def endpoints(self) -> dict[str, Any]:
        """Where everything is: the shape of `.localcloud/endpoints.json`."""
        outputs: dict[str, str] = {}
        for stack in self.stacks:
            outputs.update(stack.outputs)
        return {
            "aws": self.aws.endpoint,
            "region": self.aws.region,
            "bus": outputs.get("BusName"),
            "stream": outputs.get("StreamName"),
            "stripe": self.stripe.url,
            # What a storefront hands Stripe.js: good only to confirm an intent it has the secret of.
            "stripe_publishable_key": self.stripe.publishable_key,
            "lambda": self.lambda_api.url,
            "events": self.events_api.url,
            # The fault store `make faults` lists, and the queue faults wait in before they reach it.
            "faults": outputs.get("FaultTableName"),
            "faultQueue": outputs.get("FaultQueueUrl"),
            "http": {service: server.url for service, server in sorted(self.http_apis.items())},
            "storefront": None if self.site is None else self.site.public_url,
        }

    def storefront_config(self) -> dict[str, Any]:
        """The storefront's `config.json`: where its API, Stripe and its sign-in are. The API is
        None until the stack serving it is deployed."""
        service, _, path = self.storefront_api.partition(":")
        server = self.http_apis.get(service)
        return {
            "graphqlUrl": None
            if server is None
            else server.url.rstrip("/") + "/" + path.lstrip("/"),
            "stripeUrl": self.stripe.url,
            "stripePublishableKey": self.stripe.publishable_key,
            "signInUrl": "/sign-in",
        }

    def _customer_token(self, customer: str) -> str:
        return self.signing_key.token(customer, audience=CUSTOMER_AUDIENCE)

    def _stack_params(self) -> dict[str, str]:
        # Passed to every stack: osls ignores a param a serverless.yml does not use.
        return {} if self.site is None else {STOREFRONT_ORIGIN_PARAM: self.site.origin}

    def write_endpoints(self) -> Path:
        """`endpoints.json`, written whole once the stacks are deployed: its existence means "up"
        to whoever waits for it, until `stop` removes it."""
        return write_endpoints(self.state_dir, self.endpoints())

    def stop(self) -> None:
        """Stop every process and thread this cloud started, whatever state they are in."""
        handler = getattr(self, "_log_handler", None)
        if handler is not None:
            # First, so that no command finds a cloud that is going away.
            remove_endpoints(self.state_dir)
        for part in (
            getattr(self, "site", None),
            *self.http_apis.values(),
            getattr(self, "stripe", None),
            getattr(self, "lambda_api", None),
            getattr(self, "events_api", None),
            getattr(self, "schedules", None),
            getattr(self, "ttl", None),
            getattr(self, "trail", None),
            getattr(self, "rule_delivery", None),
            getattr(self, "event_sources", None),
            getattr(self, "lambdas", None),
            getattr(self, "moto", None),
        ):
            if part is None:
                continue
            try:
                part.stop()
            except Exception:
                logger.exception("part did not stop cleanly", extra={"part": type(part).__name__})
        logger.info("local cloud stopped")
        if handler is not None:
            logging.getLogger("localcloud").removeHandler(handler)
            handler.close()

    def _wake_streams_with_news(self, _returned: FunctionSpec) -> None:
        """A function has returned: the pollers of the table streams moto has added records to
        since the last return look now, instead of at their next idle round (decisions 0017 and
        0025). One wake-up per return, however many records it wrote, so a function's batch of
        writes is read as one batch; and none after a function that only read. A write from
        outside any function is found at the idle round, or at the next return."""
        for stream_arn in self.moto.streams_with_news():
            self.event_sources.wake(stream_arn)

    def _put_events_locally(self, entries: Sequence[Mapping[str, Any]]) -> None:
        result = self.events_api.put_events([dict(entry) for entry in entries])
        if result["FailedEntryCount"]:
            raise ValueError(f"events not put: {result['Entries']}")

    def stripe_parameters(self) -> dict[str, str]:
        """The SSM SecureStrings the Stripe-facing service reads its secrets from, by name:
        `/<service>/<stage>/api-key` and `/<service>/<stage>/webhook-secret`, the service being
        the one `stripe_webhook` names. Empty when no service receives Stripe's webhooks."""
        if not self.stripe_webhook:
            return {}
        prefix = f"/{self.stripe_webhook.partition(':')[0]}/{self.stage}"
        return {
            f"{prefix}/api-key": self.stripe.api_key,
            f"{prefix}/webhook-secret": self.stripe.webhook_secret,
        }

    def _seed_stripe_parameters(self) -> None:
        # A stack's prerequisite that no template creates (a secret never is in one): put there
        # the way an operator puts Stripe's keys into a real account, before the first deploy.
        ssm = self.aws.client("ssm")
        for name, value in self.stripe_parameters().items():
            ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    def _connect_stripe_webhook(self) -> None:
        # As the service's owner registers its endpoint in Stripe's dashboard: at its route, for
        # the event types its stack's `StripeWebhookEvents` output enables (all, without one).
        if not self.stripe_webhook:
            return
        service, _, path = self.stripe_webhook.partition(":")
        server = self.http_apis.get(service)
        if server is None:
            return
        [stack] = [s for s in self.stacks if _service_of(s.name, self.stage) == service]
        enabled = stack.outputs.get(STRIPE_WEBHOOK_EVENTS_OUTPUT)
        self.stripe.set_webhook_url(
            server.url.rstrip("/") + "/" + path.lstrip("/"),
            events=enabled.split(",") if enabled else None,
        )


def _package_cache_from_environment() -> Path | None:
    folder = os.environ.get(PACKAGE_CACHE_VARIABLE)
    return Path(folder) if folder else None


def _keep_aside(current: Path, previous: Path) -> None:
    if current.exists():
        current.replace(previous)


def _service_of(stack_name: str, stage: str) -> str:
    suffix = f"-{stage}"
    return stack_name[: -len(suffix)] if stack_name.endswith(suffix) else stack_name

"""The local cloud: every part started together, every stack deployed into it, stopped as one."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from localcloud.aws import Aws
from localcloud.deploy import DeployedStack, DeployError, TemplateError
from localcloud.deploy.create import deploy
from localcloud.deploy.package import package
from localcloud.endpoints import remove_endpoints, write_endpoints
from localcloud.event_sources import EventSourceRunner
from localcloud.eventbridge import RuleDelivery
from localcloud.eventbridge.put_events import EventsApiServer
from localcloud.http_api import HttpApiServer, LocalSigningKey
from localcloud.lambda_.host import LambdaHost
from localcloud.lambda_.invoke_api import LambdaApiServer
from localcloud.lifecycle import Part
from localcloud.logs import LOG_FILE, PREVIOUS_LOG_FILE, file_handler
from localcloud.moto import MotoServer
from localcloud.stripe import FakeStripe
from localcloud.timers import ScheduleRunner, TtlSweeper
from localcloud.trail import PREVIOUS_TRAIL_FILE, TRAIL_FILE, EventTrail

logger = logging.getLogger(__name__)


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
        # Each run starts a trail and a log of its own; the previous run's are kept aside, once.
        _keep_aside(self.state_dir / TRAIL_FILE, self.state_dir / PREVIOUS_TRAIL_FILE)
        _keep_aside(self.state_dir / LOG_FILE, self.state_dir / PREVIOUS_LOG_FILE)
        self._log_handler = file_handler(self.state_dir / LOG_FILE)
        logging.getLogger("localcloud").addHandler(self._log_handler)
        self.moto = MotoServer(log_file=self.state_dir / "logs" / "moto.log").start()
        self.aws = Aws(self.moto.url)
        self.lambdas = LambdaHost(self.aws, python=sys.executable, log_dir=self.state_dir / "logs")
        self.ttl = TtlSweeper(self.aws)
        self.event_sources = EventSourceRunner(
            self.aws, self.lambdas.invoke, ttl_deletes=self.ttl.deletes
        )
        self.rule_delivery = RuleDelivery(self.aws, self.lambdas.invoke)
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
                "AWS_ENDPOINT_URL_EVENTS": self.events_api.url,
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
        }

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
        if not self.stripe_webhook:
            return
        service, _, path = self.stripe_webhook.partition(":")
        server = self.http_apis.get(service)
        if server is not None:
            self.stripe.set_webhook_url(server.url.rstrip("/") + "/" + path.lstrip("/"))


def _keep_aside(current: Path, previous: Path) -> None:
    if current.exists():
        current.replace(previous)


def _service_of(stack_name: str, stage: str) -> str:
    suffix = f"-{stage}"
    return stack_name[: -len(suffix)] if stack_name.endswith(suffix) else stack_name

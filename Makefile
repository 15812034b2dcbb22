# autonomous-shop: the verbs a newcomer, a reader and CI use. `make help` lists them.
include make/common.mk

# Workspace members, by kind. Libraries carry the coverage gate; every member has the same verbs.
LIBS := $(patsubst %/pyproject.toml,%,$(wildcard libs/*/pyproject.toml))
SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
INFRA := $(patsubst %/pyproject.toml,%,$(wildcard infra/*/pyproject.toml))
# The shop from the outside: the customer's client, the journeys, the demo and the e2e tests.
E2E := tests-e2e
MEMBERS := $(LIBS) $(INFRA) $(SERVICES) $(E2E)
LIB_PACKAGES := $(subst -,_,$(notdir $(LIBS)))
COVERAGE_GATE := 90
comma := ,
space := $(subst ,, )

# The stacks of the local cloud, in deploy order: the event hub, then every service that exists.
STACKS := infra/event-hub $(patsubst %/serverless.yml,%,$(wildcard services/*/serverless.yml))
CUSTOMER ?= customer-1

.DEFAULT_GOAL := help
.PHONY: help setup lint test test-unit package bench up seed contracts catalog token trail faults demo deploy remove clean

# Runs a verb in every member whose own Makefile offers it; `make -q` exits 2 only where the member
# has no such target, so a new service's seed or contracts is picked up without a line here.
define in_every_member_offering
	@offered=0; for member in $(MEMBERS); do \
	  status=0; $(MAKE) -s -q -C $$member $(1) >/dev/null 2>&1 || status=$$?; \
	  if [ $$status -ne 2 ]; then offered=1; $(MAKE) -s -C $$member $(1); fi; \
	done; \
	if [ $$offered -eq 0 ]; then echo "no member offers make $(1)" >&2; exit 1; fi
endef

help: ## List the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install everything from nothing: uv, the locked Python workspace, the osls CLI (safe to re-run)
	@uv --version >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) python find >/dev/null 2>&1 || { echo "setup: no Python $$(cat .python-version) on this machine" \
	  "(.python-version: the Lambda runtime's version); install it, e.g. pyenv install $$(cat .python-version)" >&2; exit 1; }
	$(UV) sync --all-packages --locked --quiet
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	fi
	@echo "setup: Python workspace and osls are installed"

lint: setup ## ruff, mypy (strict on libs/ and infra/), no service importing another, event contracts and catalog, doc links
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) shop-checks imports --cache-dir .cache/import-linter
	$(RUN) shop-checks contracts
	$(RUN) shop-checks catalog --check
	$(RUN) shop-checks links
	$(RUN) mypy --strict $(addsuffix /src,$(LIBS) $(INFRA) $(E2E))
	@for member in $(SERVICES); do echo "mypy $$member/src"; (cd $$member && $(RUN) mypy --cache-dir ../../.mypy_cache src); done
	@for member in $(MEMBERS); do \
	  if [ -d $$member/tests ]; then echo "mypy $$member/tests"; (cd $$member && $(RUN) mypy --cache-dir ../../.mypy_cache tests); fi; \
	done
	@echo "mypy $(E2E)/bench"; cd $(E2E) && $(RUN) mypy --cache-dir ../.mypy_cache bench

# The suites run side by side (TEST_JOBS at once, the longest first: the local cloud's, the
# inventory's with its property on moto, the whole shop's): most of a suite's time is spent waiting
# on a local cloud's processes rather than on a core, so on CI's two cores three at once finish
# well before one after another. Each suite's output is printed whole when it ends.
TEST_JOBS ?= 3
LONGEST_SUITES := infra/local services/inventory $(E2E)
SUITES := $(LONGEST_SUITES) $(filter-out $(LONGEST_SUITES),$(SERVICES) libs $(INFRA))
# The browser test's Chromium is installed (apt-get, when missing) while lint runs: it waits on the
# network and dpkg, lint on a core.
test: ## Lint, then every test suite; fails if any fails or if no test ran
	@$(MAKE) -j2 --output-sync=target lint browser
	@$(MAKE) -j$(TEST_JOBS) --output-sync=target $(addprefix suite/,$(SUITES))
	@echo "test: every suite passed ($(SUITES))"

.PHONY: browser
browser: ## Install Debian's chromium for the browser test when it is missing (apt-get, as root)
	@$(MAKE) -C $(E2E) browser

# The libraries' coverage is taken with `coverage run`, not `pytest --cov`: the test kit's pytest
# plugin imports shop_testkit before pytest-cov starts measuring, so its module lines would count
# as missed.
.PHONY: suite/libs
suite/libs:
	@echo "== libs"
	make/pytest-or-fail $(RUN) coverage run --branch --source=$(subst $(space),$(comma),$(LIB_PACKAGES)) \
	  -m pytest $(LIBS)
	$(RUN) coverage report --skip-covered --show-missing --fail-under=$(COVERAGE_GATE)

suite/%:
	@echo "== $*"
	@$(MAKE) -C $* check

test-unit: setup ## Every member's unit tier only, network disabled (seconds each; make test runs all tiers)
	@for member in $(MEMBERS); do echo "== $$member"; $(MAKE) -C $$member test-unit; done

package: setup ## Package every stack with osls (offline) and every library as a wheel
	@for member in $(MEMBERS); do echo "== $$member"; $(MAKE) -C $$member package; done

bench: setup ## Print the benchmark figures of every member that has some
	@for member in $(MEMBERS); do $(MAKE) -C $$member bench; done

up: setup ## The local cloud in the foreground, every stack deployed, the storefront served; endpoints in .localcloud/endpoints.json
	$(RUN) localcloud up $(STACKS) --stripe-webhook stripe-esg:/stripe/webhook --storefront frontend-stubs/storefront

seed: ## Load every service's demo data into the running local cloud (each publishes it as events)
	$(call in_every_member_offering,seed)

contracts: setup ## Rewrite every service's contracts/ from its code, check they fit together, rewrite the catalog
	$(call in_every_member_offering,contracts)
	$(RUN) shop-checks contracts
	$(RUN) shop-checks catalog

catalog: setup ## Rewrite the event catalog (docs/events.md, each service's asyncapi.yaml) from the contracts
	$(RUN) shop-checks catalog

token: ## Print a bearer token for a test customer: make token CUSTOMER=<id>
	@$(RUN) localcloud token $(CUSTOMER)

trail: ## Show every event of one order in time order: make trail KEY=<order id> [FORMAT=json|mermaid]
	@$(RUN) localcloud trail$(if $(FORMAT), --format $(FORMAT))$(if $(filter mermaid,$(FORMAT)),$(foreach folder,$(wildcard services/*/contracts), --contracts $(folder))) $(KEY)

faults: ## List the faults parked in a running local cloud; RESUBMIT=1 resubmits them to their functions
	@$(RUN) localcloud faults $(if $(RESUBMIT),--resubmit,)

demo: setup ## The whole shop on the local cloud: five orders traced through every service, a report in .demo/
	$(RUN) shop-demo

# A stage in your own AWS account (docs/deploy.md): STAGE names it; REGION and PARAMS (key=value,
# passed to every stack's serverless.yml, e.g. jwtIssuer, jwtAudience, storefrontOrigin) are optional.
STAGE_DEPLOY = UV="$(UV)" $(RUN) stage-deploy $(1) $(if $(STAGE),--stage $(STAGE),) \
  $(if $(REGION),--region $(REGION),) $(foreach param,$(PARAMS),--param $(param)) $(STACKS)

deploy: setup ## Deploy to AWS: make deploy STAGE=<name> [REGION=<region>] [PARAMS="key=value ..."]
	@$(call STAGE_DEPLOY,deploy)

remove: setup ## Remove a deployed stage from AWS, services first, event hub last: make remove STAGE=<name>
	@$(call STAGE_DEPLOY,remove)

clean: ## Remove build and test output (keeps the environment)
	rm -rf .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov
	find . -name dist -type d -prune -not -path './node_modules/*' -exec rm -rf {} +
	find . -name .serverless -type d -prune -not -path './node_modules/*' -exec rm -rf {} +

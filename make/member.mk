# The verbs of one workspace member (a library or a service): include it from the member's Makefile.
#   setup    the whole workspace (members share one lock file and one environment)
#   lint     ruff format check, ruff, mypy (strict for libraries and infra)
#   check    this member's tests only, every tier (a service's with its coverage gate);
#            test = lint + check
#   test-unit  this member's unit tier only (seconds), with the network disabled: the tiers are
#            sorted by shop_testkit's pytest plugin (unit, integration, localcloud)
#   package  a service: its dependencies layer (make/layer: uv.lock's wheels for the Lambda runtime,
#            from PyPI once, then uv's cache), then `serverless package` (osls, offline); a
#            library: its wheel and sdist
#   bench    the member's benchmarks (bench/*.py), printing figures
# A member may offer more verbs in its own Makefile, which the top one runs wherever they exist:
#   seed       load its demo data into the running local cloud
#   contracts  rewrite its contracts/ (the JSON Schemas of the events it produces and consumes)
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
include $(ROOT)/make/common.mk

MEMBER := $(notdir $(CURDIR))
# Libraries and the local cloud are type-checked strictly; services at mypy's defaults plus checks.
KIND := $(notdir $(abspath $(CURDIR)/..))
MYPY_SOURCE_FLAGS := $(if $(filter libs infra,$(KIND)),--strict,)
STAGE ?= local

.PHONY: setup lint check test test-unit package bench

setup:
	@$(MAKE) -C $(ROOT) setup

lint:
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy --cache-dir $(ROOT)/.mypy_cache $(MYPY_SOURCE_FLAGS) src
	@if [ -d tests ]; then $(RUN) mypy --cache-dir $(ROOT)/.mypy_cache tests; fi

# Services carry a coverage gate on their own src/ (lines and branches), as the libraries do at the
# top. Set at the inventory's level when it came in: 93.69 % measured, rounded down. Taken with
# `coverage run` (as for the libraries), whose report's exit status is the gate.
SERVICE_COVERAGE_GATE := 93
SERVICE := $(filter services,$(KIND))
# Handlers run in processes of their own, in the local-cloud tests, where coverage cannot follow;
# each is one line of wiring, and the service's bootstrap test holds it to that.
SERVICE_COVERAGE_OMIT := src/*/handlers/*

check:
	@$(ROOT)/make/pytest-or-fail $(RUN) $(if $(SERVICE),coverage run --branch --source=src --omit='$(SERVICE_COVERAGE_OMIT)' -m) pytest tests
	@$(if $(SERVICE),$(RUN) coverage report --skip-covered --show-missing --fail-under=$(SERVICE_COVERAGE_GATE))

test: lint check

# --disable-socket allows nothing, not even unix sockets: no unit test here needs one.
test-unit:
	@$(ROOT)/make/pytest-or-fail $(RUN) pytest tests -m unit --disable-socket -q

package:
	@if [ -f serverless.yml ]; then \
	  if grep -q '^layers:' serverless.yml; then UV="$(UV)" $(ROOT)/make/layer $(MEMBER) build/layer; fi; \
	  $(ROOT)/make/serverless package --stage $(STAGE); \
	else \
	  $(UV) build --quiet --out-dir dist .; \
	  ls -1 dist; \
	fi

bench:
	@if ls bench/*.py >/dev/null 2>&1; then \
	  for script in bench/*.py; do $(RUN) python $$script; done; \
	else echo "$(MEMBER): no benchmarks"; fi

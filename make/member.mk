# The verbs of one workspace member (a library or a service): include it from the member's Makefile.
#   setup    the whole workspace (members share one lock file and one environment)
#   lint     ruff format check, ruff, mypy (strict for libraries and infra)
#   check    this member's tests only, every tier;  test = lint + check
#   test-unit  this member's unit tier only (seconds), with the network disabled: the tiers are
#            sorted by shop_testkit's pytest plugin (unit, integration, localcloud)
#   package  a service: `serverless package` (osls, offline); a library: its wheel and sdist
#   bench    the member's benchmarks (bench/*.py), printing figures
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

check:
	@$(ROOT)/make/pytest-or-fail $(RUN) pytest tests

test: lint check

# --disable-socket allows nothing, not even unix sockets: no unit test here needs one.
test-unit:
	@$(ROOT)/make/pytest-or-fail $(RUN) pytest tests -m unit --disable-socket -q

package:
	@if [ -f serverless.yml ]; then \
	  $(ROOT)/make/serverless package --stage $(STAGE); \
	else \
	  $(UV) build --quiet --out-dir dist .; \
	  ls -1 dist; \
	fi

bench:
	@if ls bench/*.py >/dev/null 2>&1; then \
	  for script in bench/*.py; do $(RUN) python $$script; done; \
	else echo "$(MEMBER): no benchmarks"; fi

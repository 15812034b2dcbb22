# Shared by the top-level Makefile and every member's: how to reach uv, and strict shell settings.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-print-directory

# The uv this workspace is locked with; `make setup` installs it with pip when it is missing.
UV_VERSION := 0.13.9
# The Python the workspace runs on is the one the Lambda runtime names (`.python-version`, decision
# 0009); it is the machine's, never downloaded.
export UV_PYTHON_DOWNLOADS := never
# Recursive on purpose: evaluated at each use, so it finds uv right after setup installed it. A uv
# that is found but does not run counts as missing: a pyenv shim answers for every installed
# Python, yet runs only where the version `.python-version` selects has uv installed.
UV = $(or $(shell uv --version >/dev/null 2>&1 && command -v uv),python3 -m uv)
RUN = $(UV) run --frozen
# Every local cloud a make verb starts (tests, `make up`, `make demo`) reuses a stack's package
# when none of its inputs changed, instead of running `serverless package` again (seconds of CPU
# each): infra/local/src/localcloud/deploy/package.py.
WORKSPACE_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
export LOCALCLOUD_PACKAGE_CACHE ?= $(WORKSPACE_ROOT)/.cache/localcloud-packages

# Shared by the top-level Makefile and every member's: how to reach uv, and strict shell settings.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-print-directory

# The uv this workspace is locked with; `make setup` installs it with pip when it is missing.
UV_VERSION := 0.13.9
# Use the machine's Python (3.11+); never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
# Recursive on purpose: evaluated at each use, so it finds uv right after setup installed it.
UV = $(or $(shell command -v uv 2>/dev/null),python3 -m uv)
RUN = $(UV) run --frozen

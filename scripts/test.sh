#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --upgrade pip
python3 -m pip install --quiet -e ".[test]"
python3 -m pytest -n 2 -p no:cacheprovider

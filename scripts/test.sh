#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
# the playground's browser tests drive Debian's chromium (never `playwright install`, which downloads one)
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install --quiet --upgrade pip
python3 -m pip install --quiet -e ".[test]"
# PyTorch is an optional cross-check: install it only from a local CPU wheel (never a large download)
TORCH_WHEEL=$(ls "${PIP_FIND_LINKS:-/opt/wheels}"/torch-2.13.0*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$TORCH_WHEEL" ]; then
    python3 -m pip install --quiet "$TORCH_WHEEL"
else
    echo "note: no local PyTorch wheel; the PyTorch cross-checks will be skipped"
fi
GLASSNET_REQUIRE_BROWSER=1 python3 -m pytest -n 2 -p no:cacheprovider

#!/bin/bash
# run-integration-tests.sh - pytest under Debian's python3 on tests/integration.
set -u
cd "$(dirname "$0")/.."
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"

#!/usr/bin/env bash
# Runs ui_test.mjs against the real contextd binary ($1); the screenshot goes to $2.
set -euo pipefail
bin=$1
shot=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../support/contextd.sh"
start_contextd "$bin" --sync none --log-level warn
node "$here/ui_test.mjs" "$port" "$shot"

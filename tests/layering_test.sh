#!/usr/bin/env bash
# Fails on an include that points up the layers: server -> query -> storage. Also fails when a
# layer's directory is missing or holds no sources, and when grep itself fails (exit 2), so a
# moved tree or an unreadable file cannot pass as "no violations".
# Usage: layering_test.sh [ROOT] (default: the current directory, the source root).
set -u
cd "${1:-.}" || { echo "FAIL no source root ${1:-.}"; exit 1; }
for layer in storage query server; do
  if [ ! -d "$layer" ] || [ -z "$(find "$layer" -name '*.cc' -print -quit)" ] ||
     [ -z "$(find "$layer" -name '*.h' -print -quit)" ]; then
    echo "FAIL layer $layer/ is missing or has no .cc and .h sources in $(pwd)"; exit 1
  fi
done
bad=
# check DIR PATTERN: records the lines of DIR's sources matching PATTERN; a grep error fails.
check() {
  local found
  found=$(grep -rnE "$2" "$1")
  case $? in
    0) bad+="$found"$'\n' ;;
    1) ;;
    *) echo "FAIL grep failed on $1/"; exit 1 ;;
  esac
}
check storage '#include "(query|server)/'
check query '#include "server/'
check query '#include [<"](pistache|simdjson|rocksdb)'
check storage '#include [<"](pistache|simdjson)'
if [ -n "$bad" ]; then
  echo "layering violations:"; printf '%s' "$bad"; exit 1
fi
echo "layering ok"

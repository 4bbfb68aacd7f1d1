#!/usr/bin/env bash
# Fails on an include that points up the layers: server -> query -> storage, and inside server/
# on one that points up its parts: the transport (http) knows no API, the API core (api) no
# dialect, and the dialects (cs, history, workspace, admin) do not include each other; only
# app.cc and main.cc put them together. Also fails when a
# layer's directory is missing or holds no sources, and when grep itself fails (exit 2), so a
# moved tree or an unreadable file cannot pass as "no violations".
# Usage: layering_test.sh [ROOT] (default: the current directory, the source root).
set -u
cd "${1:-.}" || { echo "FAIL no source root ${1:-.}"; exit 1; }
for layer in storage query server server/http server/api server/cs server/history \
             server/workspace server/admin server/tools; do
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
dialects='cs|history|workspace|admin'
check server/http '#include "server/(api|'"$dialects"'|tools|app)'
check server/api '#include "server/('"$dialects"'|tools|app)'
for d in cs history workspace admin; do
  others=$(echo "$dialects" | tr '|' '\n' | grep -vx "$d" | paste -sd '|')
  check "server/$d" '#include "server/('"$others"'|tools|app)'
done
check server/tools '#include "server/(history|workspace|admin|app)'
if [ -n "$bad" ]; then
  echo "layering violations:"; printf '%s' "$bad"; exit 1
fi
echo "layering ok"

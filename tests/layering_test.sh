#!/usr/bin/env bash
# Fails on an include that points up the layers: server -> query -> storage.
set -u
bad=$( (grep -rnE '#include "(query|server)/' storage; grep -rnE '#include "server/' query;
        grep -rnE '#include [<"](pistache|simdjson|rocksdb)' query;
        grep -rnE '#include [<"](pistache|simdjson)' storage) 2>/dev/null)
if [ -n "$bad" ]; then
  echo "layering violations:"; echo "$bad"; exit 1
fi
echo "layering ok"

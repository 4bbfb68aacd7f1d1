-- wrk script: GET the URL given, the same request every time, reporting like the others.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

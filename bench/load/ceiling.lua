-- wrk script: GET / against the trivial handler, reporting like the others.

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

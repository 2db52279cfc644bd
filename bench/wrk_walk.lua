-- wrk walk: each request asks for the next of the paths given after `--` on wrk's command line,
-- cycling through them, so consecutive requests never repeat a URL: a reader paging through and
-- re-sorting one list, not one page asked for again. The result line is wrk_report.lua's.
--   wrk ... -s bench/wrk_walk.lua http://127.0.0.1:PORT/ -- /path?page=2 /path?page=3 ...

-- wrk_report.lua sits beside this script, wherever wrk is started from.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "wrk_report.lua")

local paths = {}
local last = 0

init = function(args)
  for _, path in ipairs(args) do
    paths[#paths + 1] = path
  end
  assert(#paths > 1, "wrk_walk.lua: give at least two paths after --")
end

-- Shared by every connection of the thread: the walk goes on where the last request left it.
request = function()
  last = last % #paths + 1
  return wrk.format("GET", paths[last])
end

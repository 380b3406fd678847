"""At the first call of add, fires custom events `filler` with 1,000 characters of data each,
--set fires.count=N of them (default 10): a big event log, made fast."""
import os

import groutines as g


@g.groutine
async def fires():
    await g.call("add")
    text = "x" * 1000
    for i in range(int(os.environ.get("GROUTINES_FIRES_COUNT", "10"))):
        g.fire("filler", i=i, text=text)

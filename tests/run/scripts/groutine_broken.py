import groutines as g

@g.groutine
async def broken(:
    pass

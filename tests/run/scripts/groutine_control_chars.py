"""A groutine whose failure message holds control characters, as text read from the
target can: JUnit must stay valid XML and the report must not pass them to the terminal."""
import groutines as g


@g.groutine
async def says_control_characters():
    await g.call("add")
    raise AssertionError("bad \x01 byte, \x1b[31mred\x1b[0m, a\tb")

"""returns: for each ret_* function of tests/targets/returns.c, forces the return of its odd
calls (return_now) and rewrites that of its even ones (set_value), with values of the other
kind where C converts them (test_return_registers.py; returns.cpp does the same in C++). Each logs the value
it read before rewriting it.
ret_pair returns a struct: its groutine logs the errors it gets."""
import groutines as g

CASES = [("ret_int", 2.75, -7.9), ("ret_float", 0.1, 3), ("ret_double", 7, 0.1),
         ("ret_long_double", 0.1, -3)]


def force_and_rewrite(function, forced, rewritten):
    @g.groutine(name=f"py-{function}")
    async def body():
        n = 0
        async for call in g.calls(function):
            n += 1
            if n % 2:
                call.return_now(forced)
            else:
                ret = await call.returned()
                g.log(f"{function} returned {ret.value!r}")
                ret.set_value(rewritten)
    return body


for case in CASES:
    force_and_rewrite(*case)


@g.groutine(name="py-ret_pair")
async def struct_return():
    async for call in g.calls("ret_pair"):
        try:
            call.return_now(1)
        except g.Error as e:
            g.log(str(e))
        try:
            (await call.returned()).set_value(1)
        except g.Error as e:
            g.log(str(e))

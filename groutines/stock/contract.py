"""contract: pre- and postconditions on functions' arguments and results, one line each.

A rule is `FUNCTION pre EXPR` (checked at the call) or `FUNCTION post EXPR` (checked at its
return). EXPR is Python over a0..a5 (integer arguments, unsigned), s0..s5 (signed), args and
the DWARF argument names themselves, cstr(a) (a C string of the target) and, in post
conditions, result (the return value, signed). A broken rule fails the `contract` groutine
with the rule, the values, and the target's backtrace.

Options (groutines run --set contract.KEY=VALUE, or GROUTINES_CONTRACT_KEY):
  contract.rules=RULES   rules separated by ';' or newlines, or @FILE to read them from a file
                         (one per line, # comments)

Each call is checked by a child groutine of its own (spawn), which awaits the return for the
post conditions while the next calls come (recursion, threads): every call is checked.

    groutines run --set 'contract.rules=parse_port post 1 <= result <= 65535' \\
        stock:contract -- ./kvparse
"""
import groutines as g

import _stock

_text = _stock.option("contract", "rules", "")
if _text.startswith("@"):
    with open(_text[1:]) as _f:
        _text = _f.read()


class Rule:
    def __init__(self, text):
        parts = text.split(None, 2)
        if len(parts) != 3 or parts[1] not in ("pre", "post"):
            raise ValueError(f"contract rule '{text}': expected 'FUNCTION pre|post EXPR'")
        self.text = text
        self.function, self.kind, self.expr = parts
        self.code = compile(self.expr, f"contract rule '{text}'", "eval")

    def check(self, names):
        try:
            ok = eval(self.code, {}, names)
        except Exception as e:
            raise AssertionError(f"{self.function}: {self.kind} `{self.expr}` could not be "
                                 f"evaluated: {type(e).__name__}: {e}") from None
        if not ok:
            shown = ", ".join(f"{k}={_stock.show(names[k])}" for k in self.code.co_names
                              if k in names and not callable(names[k]))
            raise AssertionError(f"{self.function}: {self.kind}condition `{self.expr}` "
                                 f"failed ({shown})")


RULES = [Rule(rule.strip()) for line in _text.split("\n")
         for rule in line.split("#", 1)[0].split(";") if rule.strip()]
if not RULES:
    raise ValueError("stock contract: no rules (--set 'contract.rules=F post result >= 0')")


def names_of(call):
    names = {f"a{i}": call.arg(i) for i in range(6)}
    names.update({f"s{i}": call.sarg(i) for i in range(6)})
    try:
        args = call.args
    except Exception:
        args = {}
    names.update(args)
    names["args"] = args
    names["cstr"] = lambda a, size=4096: call.read_cstring(a, size)
    return names


by_function = {}
for _rule in RULES:
    by_function.setdefault(_rule.function, []).append(_rule)


async def _checked(call):
    rules = by_function[call.function]
    names = names_of(call)
    for rule in rules:
        if rule.kind == "pre":
            rule.check(names)
    posts = [rule for rule in rules if rule.kind == "post"]
    if posts:
        names.pop("cstr")  # the call's memory reads are not valid at the return
        ret = await call.returned()
        if ret.unwound:
            return
        names["result"] = ret.value
        for rule in posts:
            rule.check(names)


@g.groutine(name="contract")
async def contract():
    _stock.follow("contract", by_function, _checked)
    await g.event("exit")

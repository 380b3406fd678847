"""python_callbacks: the Python side of python_bench.

on_hot is LLDB's own Python breakpoint callback (`breakpoint command add -F`) reading hot()'s
two arguments with frame.FindRegister: the peer. bench_groutines.py is ours."""
calls = 0
total = 0


def reset():
    global calls, total
    calls = total = 0


def on_hot(frame, bp_loc, extra_args, internal_dict):
    global calls, total
    total += frame.FindRegister("rdi").GetValueAsUnsigned() + \
        frame.FindRegister("rsi").GetValueAsUnsigned()
    calls += 1
    return False

"""lldb_driver.py COMMAND...: runs LLDB commands through the SB API, printing each as
"(lldb) COMMAND" followed by its output and error, and, unlike `lldb --batch`, goes on
after a command fails. The tests use it to check error messages.

One pseudo-command synchronises on the debugger's events: `!wait STATE` waits (at most
WAIT_SECONDS) until the selected process's public state is STATE (e.g. detached, exited),
taking its state-change events off the debugger's listener as `lldb` itself would."""
import sys
import time

import lldb

WAIT_SECONDS = 60


def wait_for_state(debugger, name):
    listener = debugger.GetListener()
    deadline = time.monotonic() + WAIT_SECONDS
    event = lldb.SBEvent()
    while time.monotonic() < deadline:
        process = debugger.GetSelectedTarget().GetProcess()
        state = process.GetState() if process.IsValid() else lldb.eStateInvalid
        if lldb.SBDebugger.StateAsCString(state) == name:
            return f"state: {name}\n"
        listener.WaitForEvent(1, event)
    return f"error: the process did not become {name} within {WAIT_SECONDS}s\n"


def main(commands):
    lldb.SBDebugger.Initialize()
    debugger = lldb.SBDebugger.Create(False)
    debugger.SetAsync(False)
    interpreter = debugger.GetCommandInterpreter()
    for command in commands:
        result = lldb.SBCommandReturnObject()
        print(f"(lldb) {command}", flush=True)
        if command.startswith("!wait "):
            sys.stdout.write(wait_for_state(debugger, command.split()[1]))
            sys.stdout.flush()
            continue
        interpreter.HandleCommand(command, result)
        sys.stdout.write(result.GetOutput() or "")
        if not result.Succeeded():
            sys.stdout.write(result.GetError() or "error: (no message)\n")
        sys.stdout.flush()
    lldb.SBDebugger.Destroy(debugger)
    lldb.SBDebugger.Terminate()


if __name__ == "__main__":
    main(sys.argv[1:])

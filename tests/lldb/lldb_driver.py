"""lldb_driver.py COMMAND...: runs LLDB commands through the SB API, printing each as
"(lldb) COMMAND" followed by its output and error, and, unlike `lldb --batch`, goes on
after a command fails. The tests use it to check error messages."""
import sys

import lldb


def main(commands):
    lldb.SBDebugger.Initialize()
    debugger = lldb.SBDebugger.Create(False)
    debugger.SetAsync(False)
    interpreter = debugger.GetCommandInterpreter()
    for command in commands:
        result = lldb.SBCommandReturnObject()
        print(f"(lldb) {command}", flush=True)
        interpreter.HandleCommand(command, result)
        sys.stdout.write(result.GetOutput() or "")
        if not result.Succeeded():
            sys.stdout.write(result.GetError() or "error: (no message)\n")
        sys.stdout.flush()
    lldb.SBDebugger.Destroy(debugger)
    lldb.SBDebugger.Terminate()


if __name__ == "__main__":
    main(sys.argv[1:])

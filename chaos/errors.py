"""Exit codes and the one error type the CLI turns into a one-line message.

Distinct codes let CI tell "a target was missed" from "the tool or its input broke".
"""

EXIT_OK = 0
EXIT_TARGET_MISSED = 1
EXIT_TOOL_ERROR = 2


class ChaosError(Exception):
    """A user-facing failure: bad input, unreachable endpoint, unsupported target.

    The message is printed as one line (no traceback) and the process exits with EXIT_TOOL_ERROR.
    It should name the field or thing at fault and say how to fix it.
    """

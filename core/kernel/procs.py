"""Child-process helpers for the launcher and the tests."""

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def child_preexec() -> None:
    """Run in a child before exec: die with SIGTERM if the parent dies first.

    Without this, a launcher killed with SIGKILL would leave its workers
    behind; Linux's PR_SET_PDEATHSIG makes the kernel clean them up.
    """
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the launcher's own stop still applies

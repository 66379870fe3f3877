"""Supervision behind ``make run``: supervisord keeps every service process up.

supervisord (PyPI ``supervisor``) runs Redis (when embedded), daphne, the scheduler and
each agent as programs: a program that dies is started again at once, one that keeps
failing to start is retried with a growing delay, and a stop reaches each program and,
after a grace period, its whole process group. This module writes its configuration,
reads its state over its XML-RPC socket, and records restarts (an event listener
program, :func:`listen`), so ``/healthz`` and the dashboard can show them.
"""

import json
import os
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

GRACE_SECONDS = 10
START_RETRIES = 100  # supervisord waits 1, 2, 3 ... seconds between failed starts


@dataclass
class Program:
    name: str
    argv: list[str]
    priority: int = 100  # lower starts first, stops last
    # Several copies (``name-1``, ``name-2``...) sharing one listening socket that
    # supervisord binds (``tcp://host:port``) and hands each as its stdin, fd 0.
    processes: int = 1
    socket: str = ""


def folder(var_dir: Path) -> Path:
    return Path(var_dir) / "supervisor"


def socket_path(var_dir: Path) -> Path:
    return folder(var_dir) / "supervisor.sock"


def events_path(var_dir: Path) -> Path:
    return folder(var_dir) / "events.jsonl"


def write_config(
    var_dir: Path, programs: list[Program], workdir: Path, autostart: bool = True
) -> Path:
    """supervisord.conf for these programs, their output on supervisord's (this terminal).

    ``autostart=False``: the programs wait to be started (``startProcess``) in an order.
    """
    here = folder(var_dir)
    here.mkdir(parents=True, exist_ok=True)
    sections = [
        "[supervisord]\n"
        + ("user=root\n" if os.geteuid() == 0 else "")  # root already: say so, quietly
        + f"nodaemon=true\nlogfile={here / 'supervisord.log'}\npidfile={here / 'supervisord.pid'}\n"
        f"childlogdir={here}\nloglevel=info\n",
        f"[unix_http_server]\nfile={socket_path(var_dir)}\nchmod=0700\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{socket_path(var_dir)}\n",
    ]
    for program in programs:
        sections.append(
            _header(program) + f"command={_command(program.argv)}\n"
            f"directory={workdir}\n"
            f"priority={program.priority}\n"
            f"autostart={str(autostart).lower()}\nautorestart=true\n"
            f"startsecs=1\nstartretries={START_RETRIES}\n"
            # The stop signal goes to the service, which stops its own workers gracefully;
            # after the grace period the whole process group is killed.
            f"stopsignal=TERM\nstopwaitsecs={GRACE_SECONDS}\nstopasgroup=false\nkillasgroup=true\n"
            "redirect_stderr=true\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"
        )
    sections.append(
        "[eventlistener:supervision-events]\n"
        f"command={_command([sys.executable, '-m', 'portal.supervision', str(var_dir)])}\n"
        f"directory={workdir}\nevents=PROCESS_STATE\n"
        "stdout_logfile=NONE\nstderr_logfile=/dev/stderr\nstderr_logfile_maxbytes=0\n"
    )
    path = here / "supervisord.conf"
    path.write_text("\n".join(sections))
    return path


def _header(program: Program) -> str:
    if not program.socket:
        return f"[program:{program.name}]\n"
    # supervisord's fcgi-program is any program given an inherited listening socket:
    # it binds it once, before the first copy starts, so every copy accepts on it.
    return (
        f"[fcgi-program:{program.name}]\nsocket={program.socket}\nsocket_backlog=1024\n"
        f"numprocs={program.processes}\nnumprocs_start=1\n"
        "process_name=%(program_name)s-%(process_num)d\n"
    )


def _command(argv: list[str]) -> str:
    # supervisord splits the command shell-style and expands %(...)s: escape both.
    return " ".join(_quote(arg) for arg in argv)


def _quote(arg: str) -> str:
    arg = arg.replace("%", "%%")
    return f'"{arg}"' if any(c in arg for c in " \t'\"") else arg


def rpc(var_dir: Path) -> xmlrpc.client.ServerProxy:
    transport = SupervisorTransport(None, None, f"unix://{socket_path(var_dir)}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def processes(var_dir: Path) -> list[dict] | None:
    """Each supervised program's state, pid, uptime and restarts; None when not supervised."""
    if not socket_path(var_dir).exists():
        return None
    try:
        infos = rpc(var_dir).supervisor.getAllProcessInfo()
    except (OSError, xmlrpc.client.Error):
        return None
    restarts = restart_counts(var_dir)
    found = []
    for info in infos:
        running = info["statename"] == "RUNNING"
        found.append(
            {
                "name": info["name"],
                "group": info["group"],
                "state": info["statename"],
                "ok": running,
                "pid": info["pid"] or None,
                "uptime_s": round(info["now"] - info["start"]) if running else None,
                "restarts": restarts.get(info["name"], 0),
            }
        )
    return found


def restart_counts(var_dir: Path) -> dict[str, int]:
    """How many times each program died unexpectedly (and was started again)."""
    counts: dict[str, int] = {}
    path = events_path(var_dir)
    if not path.exists():
        return counts
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "exited" and not event.get("expected"):
            counts[event["process"]] = counts.get(event["process"], 0) + 1
    return counts


def listen(var_dir: Path) -> None:
    """supervisord's event listener protocol: note each unexpected exit, and each start."""
    path = events_path(var_dir)
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header = dict(part.split(":", 1) for part in sys.stdin.readline().split())
        payload = sys.stdin.read(int(header.get("len", 0)))
        fields = dict(part.split(":", 1) for part in payload.split() if ":" in part)
        kind = header.get("eventname", "")
        if kind in ("PROCESS_STATE_EXITED", "PROCESS_STATE_RUNNING"):
            event = {
                "at": time.time(),
                "process": fields.get("processname"),
                "event": "exited" if kind.endswith("EXITED") else "running",
                "expected": fields.get("expected") == "1",
                "pid": fields.get("pid"),
            }
            with path.open("a") as out:
                out.write(json.dumps(event) + "\n")
            if event["event"] == "exited" and not event["expected"]:
                sys.stderr.write(f"supervision: {event['process']} died; starting it again\n")
                sys.stderr.flush()
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


if __name__ == "__main__":
    listen(Path(sys.argv[1]))

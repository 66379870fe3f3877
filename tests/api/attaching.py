"""What the attach tests share: a host's connector as os-brick would describe it, a server."""

import uuid

CONNECTOR = {
    "initiator": "iqn.1993-08.org.debian:01:cad181614cec",
    "ip": "192.168.1.20",
    "host": "compute-1",
    "platform": "x86_64",
    "os_type": "linux",
    "multipath": False,
    "mountpoint": "/dev/vdb",
}


def server(name: str) -> str:
    """A pretend server's instance UUID (there is no Nova), the same for the same name."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))

"""The ``tempest.conf`` for a Cinderlab: Block Storage only, pre-provisioned accounts.

Cinderlab plays Keystone (``/identity/v3``) and Cinder (``/v3``, catalog type
``block-storage``); Nova, Glance, Neutron and Swift are not simulated, nor is the backup
service, so Tempest is told they are unavailable and skips what needs them.
"""

import configparser
from pathlib import Path

MIN_MICROVERSION = "3.0"
MAX_MICROVERSION = "3.71"  # volumes/rest/microversion.py MAX_VERSION
# seed_demo's backends in zone nova, where a volume asked without a zone goes (LVM_gold
# is in az2, so Tempest's multi-backend volumes could not be scheduled there).
BACKENDS = ["LVM_thick", "LVM_thin"]


def settings(url: str, accounts: Path, workspace: Path) -> dict[str, dict[str, str]]:
    return {
        "DEFAULT": {"log_dir": str(workspace / "logs"), "log_file": "tempest.log"},
        "oslo_concurrency": {"lock_path": str(workspace / "locks")},
        "auth": {
            "use_dynamic_credentials": "False",
            "test_accounts_file": str(accounts),
            "default_credentials_domain_name": "Default",
            "create_isolated_networks": "False",
        },
        "identity": {
            "uri_v3": f"{url}/identity/v3",
            "auth_version": "v3",
            "region": "RegionOne",
            "admin_role": "admin",
        },
        "identity-feature-enabled": {"api_v2": "False", "api_v3": "True"},
        "service_available": {
            "cinder": "True",
            "nova": "False",
            "glance": "False",
            "neutron": "False",
            "swift": "False",
            "horizon": "False",
        },
        "volume": {
            "catalog_type": "block-storage",
            "endpoint_type": "publicURL",
            "region": "RegionOne",
            "min_microversion": MIN_MICROVERSION,
            "max_microversion": MAX_MICROVERSION,
            "build_timeout": "120",
            "build_interval": "1",
            "backend_names": ",".join(BACKENDS),
            "storage_protocol": "iSCSI",
            "vendor_name": "Open Source",
            "volume_size": "1",
        },
        "volume-feature-enabled": {
            "backup": "False",
            "multi_backend": "True",
            "snapshot": "True",
            "clone": "True",
            "manage_volume": "False",
            "manage_snapshot": "False",
            "extend_attached_volume": "False",
            "api_extensions": "all",
        },
        "enforce_scope": {"cinder": "True"},
    }


def write(path: Path, url: str, accounts: Path, workspace: Path) -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # keep option names as written
    conf.read_dict(settings(url, accounts, workspace))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        conf.write(out)

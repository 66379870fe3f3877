"""Production settings pass Django's deployment checks and refuse unsafe setups."""

import os
import secrets
import subprocess
import sys

from tests.cluster import BASE


def run_check(**env: str) -> subprocess.CompletedProcess:
    unset = ("CINDERLAB_INSECURE_FAST_HASHER", "DJANGO_ALLOW_ASYNC_UNSAFE")  # tests-only settings
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(DJANGO_SETTINGS_MODULE="portal.settings_production", **env)
    return subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=environ,
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = run_check(CINDERLAB_SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_check()
    assert result.returncode != 0
    assert "CINDERLAB_SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_the_tests_fast_password_hasher():
    result = run_check(
        CINDERLAB_SECRET_KEY=secrets.token_urlsafe(60), CINDERLAB_INSECURE_FAST_HASHER="1"
    )
    assert result.returncode != 0
    assert "must not be set in production" in result.stderr

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


def test_production_settings_refuse_noauth():
    result = run_check(CINDERLAB_SECRET_KEY=secrets.token_urlsafe(60), CINDERLAB_AUTH="noauth")
    assert result.returncode != 0
    assert "CINDERLAB_AUTH=noauth" in result.stderr


def production_setting(name: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "CINDERLAB_INSECURE_FAST_HASHER"}
    environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings_production",
        CINDERLAB_SECRET_KEY=secrets.token_urlsafe(60),
        **env,
    )
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "shell", "-c", code],
        cwd=BASE,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_a_proxys_https_header_is_believed_only_when_configured():
    """Trusting X-Forwarded-Proto unconditionally lets any client claim https."""
    assert production_setting("SECURE_PROXY_SSL_HEADER") == "None"
    configured = production_setting(
        "SECURE_PROXY_SSL_HEADER", CINDERLAB_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO"
    )
    assert configured == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_weak_passwords_are_refused(live_db):
    import pytest
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("password123", "12345678901", "cinderlab-demo"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=_user_named("cinderlab-demo"))


def _user_named(name: str):
    from django.contrib.auth import get_user_model

    return get_user_model()(username=name, email=f"{name}@example.invalid")


def test_there_are_no_password_reset_pages_to_send_mail_nobody_gets(live_db):
    from django.test import Client

    for path in ("/accounts/password_reset/", "/accounts/reset/MQ/set-password/"):
        assert Client().get(path).status_code == 404

"""What a locked-out client sees (django-axes calls ``response``).

Keystone answers a locked account with 401 and a JSON error, so the token
endpoint does the same; the login page says so in words, with 429.
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

LOCKED = "Too many failed attempts for this account from here; try again in {minutes} minutes."


def message() -> str:
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return LOCKED.format(minutes=minutes)


def response(request, *_ignored):
    """Axes passes (request, original_response, credentials) or, from async code,
    (request, credentials): neither is needed here."""
    if request.path.startswith("/identity/"):
        from portal.identity.views import keystone_error

        return keystone_error(401, "Unauthorized", message())
    context = {"form": AuthenticationForm(request), "locked": message()}
    return render(request, "registration/login.html", context, status=429)

"""``manage.py provision_accounts``: projects with a member and a reader each, and as many
cloud admins, each in a project of its own.

For suites that bring their own users, as Tempest's pre-provisioned credentials do
(``[auth] test_accounts_file``): every user gets a fresh random password, and the accounts
are written as a YAML list (JSON is YAML) of ``username``/``password``/``project_name``/
``roles``/``types``. Admins are cloud admins (superusers), Cinderlab's one meaning of
admin; their volumes must not land in a project a test lists as another user's, hence
their own projects. Members come first in the file, then readers, then admins: a suite
that takes "any free account" for a second project then takes another project's member.
"""

import json
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.cinder.models import Membership, Project

DOMAIN = "Default"
PERSONAS = [
    # (suffix, project suffix, membership role, Keystone roles shown to the suite, superuser)
    ("member", "", "member", ["member"], False),
    ("reader", "", "reader", ["reader"], False),
    ("admin", "-admin", "admin", ["admin", "member", "reader"], True),
]


class Command(BaseCommand):
    help = "Create N projects with a member and a reader, and N admins; write the accounts."

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, default=4)
        parser.add_argument("--prefix", default="acct")
        parser.add_argument("--output", required=True, help="where to write the accounts YAML")

    @transaction.atomic
    def handle(self, *args, projects: int, prefix: str, output: str, **options):
        accounts: dict[str, list[dict]] = {suffix: [] for suffix, *_ in PERSONAS}
        for n in range(1, projects + 1):
            for suffix, project_suffix, role, roles, superuser in PERSONAS:
                project, _ = Project.objects.get_or_create(name=f"{prefix}-{n}{project_suffix}")
                account = self._account(project, f"{prefix}-{n}-{suffix}", role, superuser)
                account["roles"] = roles
                if superuser:
                    account["types"] = ["admin"]
                accounts[suffix].append(account)
        ordered = [a for suffix, *_ in PERSONAS for a in accounts[suffix]]
        with open(output, "w") as out:
            json.dump(ordered, out, indent=1)
        self.stdout.write(f"{len(ordered)} accounts written to {output}")

    def _account(self, project: Project, username: str, role: str, superuser: bool) -> dict:
        """The user (created or given a new password) and its membership."""
        User = get_user_model()
        password = secrets.token_urlsafe(18)
        user = User.objects.filter(username=username).first() or User(username=username)
        user.is_superuser = user.is_staff = superuser
        user.set_password(password)
        user.save()
        Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
        return {
            "username": username,
            "password": password,
            "project_name": project.name,
            "user_domain_name": DOMAIN,
            "project_domain_name": DOMAIN,
        }

"""``manage.py provision_accounts``: projects with a member, a reader and an admin each,
written as a Tempest accounts file whose passwords log in with the roles it lists."""

import json
import uuid

from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.cinder import tokens
from core.cinder.models import Project


def test_each_project_gets_a_member_and_a_reader_and_each_admin_a_project(live_db, tmp_path):
    prefix = f"acct-{uuid.uuid4().hex[:6]}"
    output = tmp_path / "accounts.yaml"

    call_command("provision_accounts", projects=2, prefix=prefix, output=str(output), stdout=None)
    accounts = json.loads(output.read_text())

    assert [a["username"] for a in accounts] == [
        f"{prefix}-1-member",
        f"{prefix}-2-member",
        f"{prefix}-1-reader",
        f"{prefix}-2-reader",
        f"{prefix}-1-admin",
        f"{prefix}-2-admin",
    ]
    for account in accounts:
        user = get_user_model().objects.get(username=account["username"])
        project = Project.objects.get(name=account["project_name"])
        assert user.check_password(account["password"]), account["username"]
        held = tokens.roles_for(user, project)
        assert set(account["roles"]) <= set(held)
        assert ("member" in held) == (account["roles"] != ["reader"])
        assert ("types" in account) == user.is_superuser == ("admin" in account["roles"])
    by_project = {}
    for account in accounts:
        by_project.setdefault(account["project_name"], []).append(account["username"])
    assert by_project == {
        f"{prefix}-1": [f"{prefix}-1-member", f"{prefix}-1-reader"],
        f"{prefix}-2": [f"{prefix}-2-member", f"{prefix}-2-reader"],
        f"{prefix}-1-admin": [f"{prefix}-1-admin"],
        f"{prefix}-2-admin": [f"{prefix}-2-admin"],
    }


def test_running_it_again_gives_new_passwords_and_no_duplicates(live_db, tmp_path):
    prefix = f"acct-{uuid.uuid4().hex[:6]}"
    first, second = tmp_path / "1.yaml", tmp_path / "2.yaml"

    call_command("provision_accounts", projects=1, prefix=prefix, output=str(first), stdout=None)
    call_command("provision_accounts", projects=1, prefix=prefix, output=str(second), stdout=None)
    old, new = json.loads(first.read_text()), json.loads(second.read_text())

    assert Project.objects.filter(name=f"{prefix}-1").count() == 1
    user = get_user_model().objects.get(username=new[0]["username"])
    assert not user.check_password(old[0]["password"])
    assert user.check_password(new[0]["password"])

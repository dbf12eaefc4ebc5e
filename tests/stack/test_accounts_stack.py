"""Accounts on the container stack, as a new member would use them through the proxy:
sign up, forget the password, reset it with the link the stack mailed (with no mail
server configured the app logs the whole message: `docker compose logs app`), log in
with the new password, then delete the account."""

import re
import secrets
import time
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.stack


def reset_link(stack, email, timeout=30):
    """The password-reset path the app logged for `email` (the newest one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = stack.compose("logs", "--no-log-prefix", "app", timeout=60).stdout
        messages = [m for m in logs.split("mail to ")[1:] if m.startswith(email)]
        links = re.findall(r"https?://\S+/accounts/password/reset/key/\S+/", "".join(messages))
        if links:
            return urlsplit(links[-1]).path
        time.sleep(1)
    raise AssertionError(f"no reset link for {email} in the app's log")


def post_until_not_limited(client, path, fields):
    """The proxy limits log-in POSTs per address; other tests may have used the burst."""
    for _ in range(6):
        response = client.post_form(path, fields)
        if response.status != 429:
            return response
        time.sleep(10)
    return response


def test_a_member_resets_a_forgotten_password_and_deletes_the_account(stack):
    name = "acct" + secrets.token_hex(4)
    email = f"{name}@example.com"
    first, second = "First-" + secrets.token_hex(8), "Second-" + secrets.token_hex(8)
    client = stack.client()
    response = client.signup(name, first)
    assert response.status == 302, f"signup: {response.status} {response.text[:300]}"
    assert client.post_form("/accounts/logout/", {}, token_from="/").status == 302

    response = client.post_form("/accounts/password/reset/", {"email": email})
    assert response.status == 302, f"reset request: {response.status} {response.text[:300]}"
    link = reset_link(stack, email)
    response = client.get(link)
    assert response.status == 302, f"reset link: {response.status}"
    form = urlsplit(response.location).path
    assert 'name="password1"' in client.get(form).text
    response = client.post_form(form, {"password1": second, "password2": second})
    assert response.status == 302, f"new password: {response.status} {response.text[:300]}"

    response = post_until_not_limited(
        client, "/accounts/login/", {"login": name, "password": first}
    )
    assert response.status == 400, "the old password still logs in"
    response = post_until_not_limited(
        client, "/accounts/login/", {"login": name, "password": second}
    )
    assert response.status == 302, f"login: {response.status} {response.text[:300]}"
    assert "Log out" in client.get("/").text

    response = client.post_form("/accounts/delete/", {"password": second})
    assert response.status == 302, f"delete: {response.status} {response.text[:300]}"
    assert "Log in" in client.get("/").text
    assert stack.client().get(f"/u/{name}/").status == 404
    # the rows go after the answer, on a thread of the app replica that answered
    assert account_rows_gone(stack, name), "the account's rows were not deleted within 60 s"


def account_rows_gone(stack, name, timeout=60):
    """Whether the account `name` and its PendingErasure are gone within `timeout` s."""
    code = (
        "from django.contrib.auth import get_user_model; "
        "from extagram.accounts.models import PendingErasure; "
        f"print(get_user_model().objects.filter(username={name!r}).exists() "
        "or PendingErasure.objects.exists())"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = stack.exec("app", "python", "manage.py", "shell", "--no-imports", "-c", code)
        if out.strip().endswith("False"):
            return True
        time.sleep(1)
    return False

"""Mail and verification settings, read in a fresh interpreter as a deployment would."""

from extagram.core.tests.test_settings import run_django

SHOW = (
    "from django.conf import settings as s; print('|'.join(str(v) for v in ("
    "s.EMAIL_BACKEND, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.ACCOUNT_EMAIL_VERIFICATION)))"
)


def test_no_mail_host_means_files_and_log_lines(tmp_path):
    result = run_django(SHOW, EXTAGRAM_DATA_DIR=str(tmp_path))
    assert result.stdout.strip().split("|") == [
        "extagram.accounts.mail.FileAndLogBackend",
        "",
        "False",
        "optional",
    ]


def test_a_mail_host_means_smtp_with_starttls_and_a_password_from_a_file(tmp_path):
    secret = tmp_path / "email_password"
    secret.write_text("s3cret\n")
    result = run_django(
        SHOW,
        EXTAGRAM_DATA_DIR=str(tmp_path),
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_PASSWORD_FILE=str(secret),
        EXTAGRAM_EMAIL_VERIFICATION="mandatory",
    )
    assert result.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend",
        "s3cret",
        "True",
        "mandatory",
    ]


def test_contradictory_or_unknown_values_stop_start_up_with_the_variable_named(tmp_path):
    both = run_django(
        "",
        EXTAGRAM_DATA_DIR=str(tmp_path),
        EMAIL_HOST="x",
        EMAIL_USE_SSL="true",
        EMAIL_USE_TLS="true",
    )
    assert both.returncode != 0 and "EMAIL_USE_SSL" in both.stderr
    unknown = run_django(
        "", EXTAGRAM_DATA_DIR=str(tmp_path), EXTAGRAM_EMAIL_VERIFICATION="sometimes"
    )
    assert unknown.returncode != 0 and "EXTAGRAM_EMAIL_VERIFICATION" in unknown.stderr

"""Settings are read in a fresh interpreter, as a deployment would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_django(code, setup=True, **env):
    return run_python("-c", ("import django; django.setup(); " if setup else "") + code, **env)


def run_python(*args, **env):
    """`python ARGS` in the repository with the project's settings, `env` added to this
    environment less its database and Redis settings (the embedded default)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE", "REDIS"))}
    base.update(DJANGO_SETTINGS_MODULE="extagram.settings", **env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_django("", EXTAGRAM_ENV="production", EXTAGRAM_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_weak_secret_key(tmp_path):
    result = run_django(
        "",
        EXTAGRAM_ENV="production",
        SECRET_KEY="django-insecure-short",
        EXTAGRAM_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "too weak" in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("kP3x9vQzLm2sW8yT4nB6cR0dF1gH5jK7" * 2 + "\n")
    result = run_django(
        "from django.conf import settings; print(settings.SECRET_KEY)",
        EXTAGRAM_ENV="production",
        SECRET_KEY_FILE=str(key_file),
        EXTAGRAM_DATA_DIR=str(tmp_path),
        ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "kP3x9vQzLm2sW8yT4nB6cR0dF1gH5jK7" * 2


def test_the_embedded_mode_keeps_one_random_key_in_the_data_folder(tmp_path):
    show = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_django(show, EXTAGRAM_DATA_DIR=str(tmp_path))
    second = run_django(show, EXTAGRAM_DATA_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEBUG", "maybe"), ("EXTAGRAM_UPLOAD_MAX_MB", "ten"), ("EXTAGRAM_ROLE", "everything")],
)
def test_a_malformed_variable_stops_start_up_with_its_name(tmp_path, name, value):
    result = run_django("", EXTAGRAM_DATA_DIR=str(tmp_path), **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_database_settings_come_from_db_variables_with_a_password_file(tmp_path):
    password = tmp_path / "db_password"
    password.write_text("s3cret\n")
    result = run_django(
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['HOST'], d['NAME'], d['PASSWORD'], d['OPTIONS']['charset'])",
        setup=False,
        EXTAGRAM_DATA_DIR=str(tmp_path),
        DB_HOST="db",
        DB_NAME="extagram",
        DB_PASSWORD_FILE=str(password),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.mysql",
        "db",
        "extagram",
        "s3cret",
        "utf8mb4",
    ]


def test_check_deploy_passes_with_production_settings_behind_tls(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE", "REDIS"))}
    env.update(
        EXTAGRAM_ENV="production",
        EXTAGRAM_TLS="true",
        SECRET_KEY="kP3x-9vQz_Lm2sW8yT4nB6cR0dF1gH5jK7" * 2,
        ALLOWED_HOSTS="photos.example.org",
        EXTAGRAM_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_previous_secret_keys_come_from_a_file_one_per_line(tmp_path):
    fallbacks = tmp_path / "secret_key_fallback"
    fallbacks.write_text("old-" + "a1B2c3D4e5" * 6 + "\nolder-" + "f6G7h8J9k0" * 6 + "\n")
    result = run_django(
        "from django.conf import settings; print(*settings.SECRET_KEY_FALLBACKS)",
        EXTAGRAM_DATA_DIR=str(tmp_path),
        SECRET_KEY_FALLBACKS_FILE=str(fallbacks),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["old-" + "a1B2c3D4e5" * 6, "older-" + "f6G7h8J9k0" * 6]
    for before_any_rotation in ({}, {"SECRET_KEY_FALLBACKS_FILE": str(tmp_path / "none")}):
        none = run_django(
            "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)",
            EXTAGRAM_DATA_DIR=str(tmp_path),
            **before_any_rotation,
        )
        assert none.stdout.strip() == "[]", none.stderr

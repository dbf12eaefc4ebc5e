"""Case 9 (the classic PHP design) is optional: the bench runs on a clone without it."""

from bench import php
from bench.run import parse_args


def test_without_the_anchor_case_9_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("EXTAGRAM_PHP_ANCHOR", raising=False)
    assert "EXTAGRAM_PHP_ANCHOR is not set" in php.missing()


def test_an_anchor_folder_without_run_sh_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("EXTAGRAM_PHP_ANCHOR", str(tmp_path))
    assert php.missing() == f"no {tmp_path / 'run.sh'}"


def test_a_missing_php_design_is_skipped_unless_required():
    assert parse_args([]).require_php is False
    assert parse_args(["--require-php"]).require_php is True
    assert 9 not in parse_args(["--no-php"]).cases

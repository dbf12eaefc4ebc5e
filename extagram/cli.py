"""Entry point for `manage.py` and the installed `extagram-manage` command."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "extagram.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    finally:
        from extagram.core.caching import commands_ended

        commands_ended()

"""Byte-compile the standard-library modules Extagram's processes import (run once, at
build time, by deploy/app/Dockerfile; not copied into the image).

Python images ship the standard library without bytecode (the official ones delete every
.pyc, Debian's python compiles only part of it), and the app's root file system is
read-only, so every process compiled about a hundred stdlib modules in memory at each
start: 0.17 s of CPU of the 0.6 s it took to import the app (measured in the image:
docs/performance.md, "The app image"). Compiling them all would add about 6.5 MB; this
compiles only what the processes import, found by importing what they import (the WSGI app with
its URLconf and every view, the upload pipeline, gunicorn with our config, the
management commands the migrate service runs, the secrets-init script), so the list
follows the code by itself.

Usage: python compile_stdlib.py [--into ROOT] GUNICORN_CONF SECRETS_INIT
With --into, each .pyc is written under ROOT at the path it has in the file system
(ROOT/usr/lib/python3.13/__pycache__/...), for the image's second layer; without, in place.
Needs the settings environment of collectstatic (SECRET_KEY, EXTAGRAM_ENV ...).
Prints "N stdlib modules imported, M compiled (K bytes)". Raises whatever an import or
a compilation raises: a module that cannot be compiled here would fail in the image too.
"""

import argparse
import importlib
import importlib.util
import os
import py_compile
import runpy
import sys
import sysconfig

ENTRY_MODULES = (
    "extagram.wsgi",
    "extagram.uploads.images",
    "gunicorn.app.wsgiapp",
    "gunicorn.arbiter",
    "gunicorn.glogging",
    "gunicorn.workers.gthread",
    "django.core.management.commands.migrate",
    "django.core.management.commands.check",
)


def import_what_the_processes_import(gunicorn_conf, secrets_init):
    """Import the entry modules, every view (through the URLconf), and run the gunicorn
    config and the secrets-init script as modules (not as __main__: no side effects).
    Returns the number of the root URLconf's patterns."""
    for name in ENTRY_MODULES:
        importlib.import_module(name)
    from django.urls import get_resolver

    views = len(get_resolver().url_patterns)  # importing the URLconf imports every view
    runpy.run_path(gunicorn_conf, run_name="gunicorn_conf")
    runpy.run_path(secrets_init, run_name="secrets_init")
    return views


def compile_missing(stdlib, into=""):
    """Write the bytecode (timestamp-checked, as Python would) of every imported module
    under `stdlib` that has none, at its place under the root `into` (a path prefix; ""
    is in place); (modules under stdlib, compiled, bytes written)."""
    imported = compiled = written = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None) or ""
        if not (source.startswith(stdlib + os.sep) and source.endswith(".py")):
            continue
        imported += 1
        cached = importlib.util.cache_from_source(source)
        if not os.path.exists(cached):
            target = into + cached
            py_compile.compile(source, cfile=target, doraise=True)
            compiled += 1
            written += os.path.getsize(target)
    return imported, compiled, written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", default="", help="root to write the .pyc files under")
    parser.add_argument("gunicorn_conf")
    parser.add_argument("secrets_init")
    args = parser.parse_args()
    import_what_the_processes_import(args.gunicorn_conf, args.secrets_init)
    into = args.into.rstrip("/")
    imported, compiled, written = compile_missing(sysconfig.get_path("stdlib"), into)
    print(f"{imported} stdlib modules imported, {compiled} compiled ({written} bytes)")


if __name__ == "__main__":
    main()

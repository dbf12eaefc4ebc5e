"""The app image's Dockerfile keeps translations for exactly the languages the site
offers: it deletes every other language's catalogues from the installed packages
(EXTAGRAM_LANGUAGES, deploy/app/Dockerfile), so a language added to settings.LANGUAGES
must be added there too, or the image would show it Django's and allauth's strings in
English.

Its last stage starts FROM scratch and copies the trimmed file system of the stage
before it (slim), so deleting what the base image ships for installing software makes the
image smaller; a FROM scratch stage inherits no environment, so the app stage restates
the runtime stage's, and a variable added there must be added to the app stage too."""

import re
from pathlib import Path

from django.conf import settings

DOCKERFILE = Path(__file__).resolve().parents[2] / "deploy" / "app" / "Dockerfile"


def test_the_image_keeps_the_catalogues_of_every_language_the_site_offers():
    match = re.search(r'^ARG EXTAGRAM_LANGUAGES="([^"]*)"', DOCKERFILE.read_text(), re.MULTILINE)
    assert match, f"no EXTAGRAM_LANGUAGES in {DOCKERFILE}"
    kept = match.group(1).split()
    offered = [code for code, _name in settings.LANGUAGES]
    assert sorted(kept) == sorted(offered)


def stages():
    """The Dockerfile's stages: {name: [instruction, ...]}, continuation lines joined and
    comment lines dropped, each instruction a string starting with its keyword."""
    result, current, pending = {}, None, ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip("\\").strip() + " "
        if line.endswith("\\"):
            continue
        instruction, pending = pending.strip(), ""
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", instruction, re.IGNORECASE)
        if match:
            current = result[match.group(1)] = []
        if current is not None:
            current.append(instruction)
    return result


def env_names(instructions):
    return {
        name
        for instruction in instructions
        if instruction.startswith("ENV ")
        for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", instruction[4:])
    }


def test_the_app_stage_is_the_trimmed_file_system_as_one_layer():
    app = stages()["app"]
    assert app[0] == "FROM scratch AS app"
    assert app[1] == "COPY --from=slim / /"
    assert not [i for i in app if i.startswith(("RUN ", "COPY ", "ADD "))][1:]


def test_the_app_stage_restates_every_variable_the_runtime_stage_sets():
    every = stages()
    runtime = env_names(every["python-base"]) | env_names(every["runtime"])
    needed = {name for name in runtime if not name.startswith("PIP_")}
    assert "DJANGO_SETTINGS_MODULE" in needed, runtime
    assert needed - env_names(every["app"]) == set()

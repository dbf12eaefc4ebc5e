"""The app image's Dockerfile keeps translations for exactly the languages the site
offers: it deletes every other language's catalogues from the installed packages
(EXTAGRAM_LANGUAGES, deploy/app/Dockerfile), so a language added to settings.LANGUAGES
must be added there too, or the image would show it Django's and allauth's strings in
English.

Its last stage starts FROM scratch and copies the file system of the stage that deletes
what the base image ships for installing software (slim), so the deletions make the
image smaller, then what the runtime stage adds to it (source, static files, bytecode) as
a second layer: slim is built from nothing in the app's source, so an app-only change
leaves the first layer as it was. A FROM scratch stage inherits no environment, so the
app stage restates the runtime stage's: a variable added there must be added to the app
stage too."""

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


def test_the_app_stage_is_the_trimmed_file_system_then_the_apps_own_files():
    app = stages()["app"]
    assert app[:3] == [
        "FROM scratch AS app",
        "COPY --from=slim / /",
        "COPY --from=runtime /build/layer/ /",
    ]
    assert not [i for i in app if i.startswith(("RUN ", "COPY ", "ADD "))][2:]


def test_the_first_layer_is_built_from_nothing_in_the_apps_source():
    every = stages()
    chain, stage = [], "slim"
    while stage in every:
        chain.append(stage)
        stage = every[stage][0].split()[1]
    assert chain == ["slim", "deps", "python-base"]
    from_context = [
        instruction
        for name in chain
        for instruction in every[name]
        if instruction.startswith(("COPY ", "ADD "))
        and "--from=" not in instruction
        or "type=bind" in instruction
        and "from=" not in instruction
    ]
    assert from_context == []


def test_the_app_stage_restates_every_variable_the_runtime_stage_sets():
    every = stages()
    runtime = set().union(*(env_names(every[name]) for name in ("python-base", "deps", "runtime")))
    needed = {name for name in runtime if not name.startswith("PIP_")}
    assert "DJANGO_SETTINGS_MODULE" in needed, runtime
    assert needed - env_names(every["app"]) == set()

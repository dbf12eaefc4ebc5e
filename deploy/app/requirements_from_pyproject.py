"""Print the runtime requirements of pyproject.toml (plus the named extras), one per line.

The builder stage installs dependencies from this list before the source is copied,
so editing the app does not invalidate the (slow) dependency layers.

    python requirements_from_pyproject.py pyproject.toml mysql > requirements.txt
"""

import sys
import tomllib


def main(path, *extras):
    with open(path, "rb") as f:
        project = tomllib.load(f)["project"]
    requirements = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            sys.exit(f"{path}: no optional dependency group {extra!r}")
        requirements += optional[extra]
    print("\n".join(requirements))


if __name__ == "__main__":
    main(*sys.argv[1:])

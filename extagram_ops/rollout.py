"""Replacing and adding app/upload containers without a failed request.

New containers are created by compose (so they carry the project's labels and config)
but join the `front` network WITHOUT their service alias: the proxy, which finds
`app`/`upload` through Docker's DNS, cannot see them yet. Only once every new container
is healthy does it get the alias (traffic reaches it within the proxy's resolver TTL,
5 s); then the old containers get SIGTERM (`docker stop`: gunicorn closes its listener,
so new connections are refused and the proxy retries them elsewhere, and finishes the
requests in flight) and are removed. A new container that never becomes healthy is
removed again and never received a request.
"""

from __future__ import annotations

import time

from django.template.defaultfilters import pluralize

from extagram_ops.docker import Container, OpsError, Project, progress, wait_healthy
from extagram_ops.state import VERSION_VAR

RESOLVER_TTL = 5.0  # deploy/proxy/templates/10-http.conf: resolver ... valid=5s
STOP_TIMEOUT = 30  # gunicorn's graceful_timeout is 20 s


def create_hidden(project: Project, service: str, version: str, count: int) -> list[Container]:
    """Create `count` more containers of `service` on image VERSION, started, not routed."""
    before = {c.id for c in project.containers(service, all=True)}
    total = len(before) + count
    progress(f"creating {count} new {service} container{pluralize(count)} on version {version}")
    project.compose(
        "up",
        "--no-start",
        "--no-deps",
        "--no-recreate",
        "--no-build",
        "--scale",
        f"{service}={total}",
        service,
        env={VERSION_VAR: version},
    )
    created = [c for c in project.containers(service, all=True) if c.id not in before]
    if len(created) != count:
        remove(project, created)
        raise OpsError(
            f"compose created {len(created)} {service} container{pluralize(len(created))}, "
            f"expected {count}"
        )
    front = project.network("front")
    try:
        for c in created:
            # same endpoint, minus the service alias: invisible to the proxy's DNS lookups
            project.docker("network", "disconnect", front, c.id)
            project.docker("network", "connect", "--alias", c.name, front, c.id)
            project.docker("start", c.id)
    except OpsError:
        remove(project, created)
        raise
    return created


def reveal(project: Project, service: str, containers: list[Container]) -> None:
    """Give the new containers their service alias: the proxy starts sending them traffic."""
    front = project.network("front")
    for c in containers:
        project.docker("network", "disconnect", front, c.id)
        project.docker("network", "connect", "--alias", service, "--alias", c.name, front, c.id)
    progress(
        f"{len(containers)} new {service} container{pluralize(len(containers))} in the "
        "proxy's rotation; "
        f"waiting {RESOLVER_TTL + 1:.0f}s for its DNS cache"
    )
    time.sleep(RESOLVER_TTL + 1)


def drain(project: Project, containers: list[Container]) -> None:
    """SIGTERM (gunicorn stops accepting, finishes requests in flight), then remove.

    Then wait out the proxy's DNS cache: until it expires the proxy may still send a
    request to a removed container's address, and Docker may give that address to the
    next container it starts, possibly of another service (an `upload` answering the
    proxy's `app` traffic with 404s, seen in the drills before this wait existed).
    """
    for c in containers:
        progress(f"draining and stopping {c.name} ({c.version or '?'})")
        project.docker("stop", "-t", str(STOP_TIMEOUT), c.id, timeout=STOP_TIMEOUT + 60)
        project.docker("rm", c.id, check=False)
    if containers:
        progress(f"waiting {RESOLVER_TTL + 1:.0f}s for the proxy to forget the old addresses")
        time.sleep(RESOLVER_TTL + 1)


def remove(project: Project, containers: list[Container]) -> None:
    for c in containers:
        project.docker("stop", "-t", "5", c.id, check=False, timeout=60)
        project.docker("rm", "-f", c.id, check=False)


def replace(
    project: Project, service: str, version: str, timeout: float, count: int | None = None
) -> None:
    """Blue-green for one service: new containers beside the old, healthy, switch, drain.
    `count` new containers (default: as many as run now; a caller switching a tier back
    after a failed drain passes the count it had before)."""
    old = project.running(service)
    if not old:
        raise OpsError(f"service {service!r} has no running container to replace")
    add(project, service, version, count or len(old), timeout)
    drain(project, old)


def add(project: Project, service: str, version: str, count: int, timeout: float) -> None:
    """`count` new containers on VERSION: started hidden, healthy, then revealed; if they
    never get healthy they are removed and traffic never left the old ones."""
    new = create_hidden(project, service, version, count)
    try:
        wait_healthy(project, new, timeout)
    except BaseException:
        progress(
            f"removing the {len(new)} new {service} container{pluralize(len(new))}; traffic "
            "stays on the old ones"
        )
        remove(project, new)
        raise
    reveal(project, service, new)


def scale(project: Project, service: str, replicas: int, version: str, timeout: float) -> None:
    running = project.running(service)
    if replicas > len(running):
        add(project, service, version, replicas - len(running), timeout)
    elif replicas < len(running):
        # highest numbers go first, like compose's own scale-down
        victims = sorted(running, key=lambda c: c.number)[replicas:]
        drain(project, victims)
    else:
        progress(f"{service} already has {replicas} replica{pluralize(replicas)}")

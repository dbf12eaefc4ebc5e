#!/usr/bin/env python
"""extagram-keeper: bring back a replica that `docker kill` took down.

Docker's restart policy (`restart: unless-stopped`) restarts a container whose process
crashes or is OOM-killed, but by design NOT one stopped through the API: `docker kill`
cancels the policy until the next start. Without an orchestrator (Swarm, Kubernetes)
nothing would bring such a replica back. This small service does, and nothing else:

- it watches Docker events for the containers of its own compose project only;
- when one with a restart policy of `always`/`unless-stopped` dies after a `kill` with
  SIGKILL (and no graceful stop signal before it: `docker stop`, `compose stop`,
  `compose down` send SIGTERM/SIGQUIT first and end with a `stop` event), and it is
  still there and exited a moment later, it starts it again;
- it never stops, removes or creates anything.

It needs the Docker socket (mounted read-only; there is no finer-grained permission in
the Docker API), so it runs with no network at all, no capabilities, a read-only root
filesystem and the standard library only. To go without it: EXTAGRAM_KEEPER_REPLICAS=0.
"""

import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

SOCKET = os.environ.get("DOCKER_SOCKET_IN_CONTAINER", "/var/run/docker.sock")
GRACE = float(os.environ.get("KEEPER_GRACE_SECONDS", "2"))
KILL_MEMORY = 60.0  # seconds a kill event is remembered
GRACEFUL_SIGNALS = {"1", "2", "3", "15", "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM"}


def log(message):
    print(f"extagram-keeper: {message}", flush=True)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout:
            self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def api(method, path, timeout=10):
    conn = UnixConnection(SOCKET, timeout=timeout)
    try:
        conn.request(method, path, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        if response.headers.get_content_type() == "application/json" and body.strip():
            return response.status, json.loads(body)
        return response.status, body
    finally:
        conn.close()


def own_project():
    status, info = api("GET", f"/containers/{socket.gethostname()}/json")
    if status != 200:
        sys.exit(f"extagram-keeper: cannot inspect my own container ({status}): {info}")
    project = info["Config"]["Labels"].get("com.docker.compose.project")
    if not project:
        sys.exit("extagram-keeper: not started by docker compose (no project label)")
    return project


class Keeper:
    def __init__(self, project):
        self.project = project
        self.kills = {}  # container id -> [(time, signal)]
        self.stopped = {}  # container id -> time of a stop/destroy event
        self.lock = threading.Lock()

    def events(self):
        filters = json.dumps(
            {
                "type": ["container"],
                "event": ["kill", "die", "stop", "destroy"],
                "label": [f"com.docker.compose.project={self.project}"],
            }
        )
        conn = UnixConnection(SOCKET, timeout=None)
        conn.request("GET", "/events?filters=" + urllib.parse.quote(filters))
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"events: HTTP {response.status}")
        while True:
            line = response.readline()
            if not line:
                raise RuntimeError("events stream closed")
            if line.strip():
                yield json.loads(line)

    def handle(self, event):
        cid = event.get("id") or event.get("Actor", {}).get("ID")
        action = event.get("Action") or event.get("status")
        attributes = event.get("Actor", {}).get("Attributes", {})
        now = time.monotonic()
        with self.lock:
            if action == "kill":
                self.kills.setdefault(cid, []).append((now, attributes.get("signal", "")))
            elif action in ("stop", "destroy"):
                self.stopped[cid] = now
            for key in [k for k, v in self.kills.items() if now - v[-1][0] > KILL_MEMORY]:
                del self.kills[key]
            for key in [k for k, t in self.stopped.items() if now - t > KILL_MEMORY]:
                del self.stopped[key]
        if action == "die":
            threading.Thread(target=self.maybe_start, args=(cid, now), daemon=True).start()

    def maybe_start(self, cid, died_at):
        with self.lock:
            signals = [sig for t, sig in self.kills.get(cid, []) if died_at - t < KILL_MEMORY]
        if not signals or any(sig in GRACEFUL_SIGNALS for sig in signals):
            return  # a crash (the restart policy handles it) or a deliberate stop
        time.sleep(GRACE)
        with self.lock:
            if self.stopped.get(cid, 0) >= died_at:
                return  # `docker stop` / `compose down` after all
        status, info = api("GET", f"/containers/{cid}/json")
        if status != 200 or info["State"]["Status"] != "exited":
            return
        policy = info["HostConfig"].get("RestartPolicy", {}).get("Name", "")
        if policy not in ("always", "unless-stopped"):
            return  # one-shot services
        name = info["Name"].lstrip("/")
        status, _ = api("POST", f"/containers/{cid}/start")
        if status in (204, 304):
            with self.lock:
                self.kills.pop(cid, None)
            log(f"{name} was killed (docker kill); started it again")
        else:
            log(f"{name} was killed; starting it again failed: HTTP {status}")

    def run(self):
        log(f"watching compose project {self.project!r}")
        while True:
            try:
                for event in self.events():
                    self.handle(event)
            except (OSError, RuntimeError, ValueError) as error:
                log(f"event stream interrupted ({error}); reconnecting")
                time.sleep(2)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        status, _ = api("GET", "/_ping", timeout=3)
        return 0 if status == 200 else 1
    Keeper(own_project()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

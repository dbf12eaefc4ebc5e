"""Drill 6: stop Redis under load.

    python -m drills.stop_redis [--short] [--record]

Under load, `docker stop` the cache container, keep it down for a while, start it again.
The site must keep serving (slower is fine, a 5xx is not), and logging in must work
while Redis is down (sessions are cached_db: the database holds them). Checked with a
fresh client: log in as one of the load's users, then open the feed signed in.
"""

import sys
import time

from drills.common import log, main, phase_seconds, under_load

TITLE = "stop Redis under load"


def run_on(stack, result, args):
    project = stack.ops
    cache = project.one("cache")
    checks = {}

    def event(driver):
        log(f"docker stop {cache.name}")
        project.docker("stop", cache.id)
        time.sleep(2)
        username = driver.username(0)
        client = stack.client()
        response = client.login(username, driver.password)
        feed = client.get("/")
        checks["login"] = (response.status, response.location)
        checks["signed_in"] = feed.status == 200 and username in feed.text
        time.sleep(phase_seconds(args))
        log(f"docker start {cache.name}")
        project.docker("start", cache.id)
        time.sleep(3)

    summary = under_load(stack, result, args, event)
    result.check_no_errors(summary, "kept serving: zero failed requests")
    status, location = checks.get("login", (None, None))
    result.check(
        "login works while Redis is down",
        status == 302 and checks.get("signed_in"),
        f"POST /accounts/login/ -> {status} {location}; feed signed in: {checks.get('signed_in')}",
    )


if __name__ == "__main__":
    sys.exit(main("stop_redis", TITLE, run_on=run_on))

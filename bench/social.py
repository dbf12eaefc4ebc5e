"""The social pages under the social shape: `python -m bench.social [--sizes 100,100000]`.

Runs the site in-process (Django's test client, one thread: what is measured is the
server's own time per request, no network and no proxy) on a throw-away SQLite
database, or on the server DATABASE_URL names when --database-url is given (a
database this bench may fill and empty: its tables are flushed first). It seeds the
social shape with `manage.py seed_social` (issue 12: 10,000 members, each following
50-300 accounts, 10 % of every member's follows going to 20 popular accounts, so
those are followed by thousands; the posts' tags; 60 notifications for each of 200
members), then, at each post count in --sizes (topped up, same members and follows),
requests each page --requests times, the pages in turn (so each meets the same machine
load), each request signed in as the next of --members
members (default 100, the members case 10 of `python -m bench --shape social` uses:
each follows 50-300 accounts, so each has a home feed of their own), after one warm-up
request per member (their post cards rendered and cached, as on a site in use):

  home          /            the member's home feed (followed accounts and their own)
  explore       /explore/    everyone's posts, signed in (today's global feed)
  tag           /tags/extagram/   a tag every post has (the worst case)
  search        /search/?q=bench12   111 matching handles, 20 shown
  notifications /notifications/   60 notifications (marked read on the first visit)
  public feed   /            signed out (no proxy here, so no microcache)

and prints req/s (1 / mean), p50 and p99 in ms, and the queries per page. Asserts nothing.
Also prints the home feed's query and its plan (EXPLAIN) for docs/performance.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

from bench.inprocess import start_django

PAGES = [
    ("home", "/"),
    ("explore", "/explore/"),
    ("tag", "/tags/extagram/"),
    ("search", "/search/?q=bench12"),
    ("notifications", "/notifications/"),
    ("public feed", "/"),  # signed out: everyone's posts (no proxy, so no microcache)
]
MEMBER = "bench500"  # not one of the 20 popular accounts; follows 50-300 like most


def explain_home(user):
    """The SQL of the home feed's first page of ids (home_post_ids' window: the posts
    among the HOME_WINDOW newest) and its plan, as text."""
    from django.db import connection

    from extagram.posts.models import Post
    from extagram.social.models import HOME_WINDOW, home_posts

    top = (Post.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    window = home_posts(user).filter(id__gte=top - HOME_WINDOW, id__lt=top)
    query = window.order_by("-id").values_list("id", flat=True)[:13]
    sql, params = query.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
    lines = [sql % tuple(repr(p) for p in params), " | ".join(columns)]
    lines += [" | ".join(str(v) for v in row) for row in rows]
    return "\n".join(lines)


def members(count):
    """The members the pages are requested as: the `count` after the 20 popular accounts in
    username order, as case 10 of `python -m bench --shape social` signs in (each follows
    50-300 accounts and has 60 notifications)."""
    from django.contrib.auth import get_user_model

    names = sorted(
        get_user_model()
        .objects.filter(username__startswith="bench")
        .values_list("username", flat=True)
    )[20 : 20 + count]
    return list(get_user_model().objects.filter(username__in=names).order_by("username"))


def measure(pages, requests):
    """Request each page `requests` times, interleaved (one request of each page in turn,
    so that every page meets the same machine: these machines are shared and their load
    moves within a run), each time as the page's next client (member), after one warm-up
    request per client and page.

    `pages` is a list of (label, path, clients). Returns {label: (req/s, p50 ms, p99 ms,
    queries of one request)}.
    """
    from django.db import connection

    queries = {}
    for label, path, clients in pages:
        for client in clients:
            client.get(path)
        counted = []  # (CaptureQueriesContext would be reset by the request_started signal)
        with connection.execute_wrapper(lambda execute, *a, n=counted: n.append(1) or execute(*a)):
            response = clients[0].get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        queries[label] = len(counted)
    times = {label: [] for label, _path, _clients in pages}
    for i in range(requests):
        for label, path, clients in pages:
            client = clients[i % len(clients)]
            started = time.perf_counter()
            client.get(path)
            times[label].append(time.perf_counter() - started)
    results = {}
    for label, samples in times.items():
        samples.sort()
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        rate = 1 / statistics.fmean(samples)
        results[label] = (rate, statistics.median(samples) * 1000, p99 * 1000, queries[label])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,100000", help="post counts (default 100,100000)")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=200, help="per page and size")
    parser.add_argument(
        "--members", type=int, default=100, help="signed-in members requests rotate over"
    )
    parser.add_argument("--database-url", help="a server database to fill (default: SQLite)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as data_dir:
        start_django(data_dir, args.database_url)
        from io import StringIO

        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from extagram.social.models import Follow

        results, plans = [], {}
        for size in sizes:
            started = time.monotonic()
            call_command("seed_social", posts=size, users=args.users, stdout=StringIO())
            seeded = time.monotonic() - started
            member = get_user_model().objects.get(username=MEMBER)
            clients = []
            for person in members(args.members):
                clients.append(Client(HTTP_HOST="localhost"))
                clients[-1].force_login(person)
            signed_out = [Client(HTTP_HOST="localhost")]
            pages = [
                (label, path, signed_out if label == "public feed" else clients)
                for label, path in PAGES
            ]
            measured = measure(pages, args.requests)
            results += [(size, label, *measured[label]) for label, _path in PAGES]
            plans[size] = explain_home(member)
            print(f"seeded {size} posts in {seeded:.0f}s", file=sys.stderr)
        follows = Follow.objects.filter(follower=member).count()
        vendor = connection.vendor

    print(
        f"Social pages in-process ({vendor}), {args.users} members; signed in as "
        f"{args.members} of them in turn; {MEMBER} (the plan's) follows {follows}; "
        f"{args.requests} requests per row, {os.cpu_count()} CPUs"
    )
    print(f"{'posts':>8}  {'page':<14}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'queries':>9}")
    for size, label, rate, p50, p99, queries in results:
        print(f"{size:>8}  {label:<14}{rate:>8.1f}{p50:>9.1f}{p99:>9.1f}{queries:>9}")
    for size, plan in plans.items():
        print(f"\nHome feed plan at {size} posts ({vendor}):\n{plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

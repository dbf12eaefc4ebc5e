from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from extagram.posts.models import StoredFile


class Command(BaseCommand):
    help = (
        "Delete photo files (and their lock rows) that no post uses and nothing touched "
        "within --min-age seconds: what a process killed in the middle of an upload or a "
        "deletion leaves behind. The upload role runs the same sweep by itself every "
        "EXTAGRAM_MEDIA_SWEEP_INTERVAL seconds; this command runs it now."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=int,
            default=3600,
            help="leave alone what was touched in the last N seconds (default 3600)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, do not delete")

    def handle(self, *args, min_age, dry_run, **options):
        report = StoredFile.objects.sweep(grace=min_age, dry_run=dry_run)
        for name in report["deleted"]:
            self.stdout.write(f"would delete {name}" if dry_run else f"deleted {name}")
        self.stdout.write(summary(report, min_age, dry_run))


def summary(report: dict, min_age: int, dry_run: bool) -> str:
    """What a sweep (StoredFileManager.sweep's report) found, deleted and kept, in plain
    words: two lines."""
    files, rows = report["files"], report["rows"]
    orphans, failed = len(report["deleted"]), len(report["failed"])
    checked = (
        f"Checked {files} stored photo file{pluralize(files)} and {rows} file "
        f"record{pluralize(rows)} (StoredFile rows) not touched for {min_age} s or more; "
        "newer ones were left alone (they may belong to uploads in progress)."
    )
    if not orphans and not failed:
        return f"{checked}\nNo orphans: every one is in use by a post or a profile picture."
    found = (
        f"{orphans + failed} orphan{pluralize(orphans + failed)} (a file or record no post or "
        "profile picture uses)"
    )
    if dry_run:
        return f"{checked}\nFound {found}: listed above; nothing deleted (--dry-run)."
    done = f"deleted {orphans} (listed above)"
    if failed:
        done += f", could not delete {failed} (see the log; the next sweep tries again)"
    return f"{checked}\nFound {found}: {done}. Everything else is in use and was kept."

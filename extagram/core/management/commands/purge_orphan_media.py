from django.core.management.base import BaseCommand

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
            self.stdout.write(name if dry_run else f"deleted {name}")
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{report['files']} files and {report['rows']} unused rows checked, "
            f"{verb} {len(report['deleted'])} orphans."
        )

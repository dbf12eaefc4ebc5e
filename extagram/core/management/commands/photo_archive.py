import json
import sys
import tarfile

from django.core.management.base import BaseCommand, CommandError

from extagram.core import photo_archive


class Command(BaseCommand):
    help = (
        "Copy the photo storage (the media volume or the S3 bucket, whichever the settings "
        "name) as a tar stream, for `extagram-ops backup`/`restore`. "
        "export: a tar of every stored file on stdout (a JSON summary on stderr). "
        "import: a tar on stdin into storage (missing or different files written, the "
        "others left; --prune deletes stored files that neither the tar nor any row "
        "names); a JSON report on stdout. count: how many files storage holds. "
        "check: the photo files the rows name that storage lacks."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=("export", "import", "count", "check"))
        parser.add_argument(
            "--prune",
            action="store_true",
            help="import: delete stored files that the tar does not hold and no row names",
        )

    def handle(self, *args, action, prune, **options):
        if action == "export":
            report = photo_archive.write_tar(sys.stdout.buffer)
            sys.stdout.buffer.flush()
            sys.stderr.write(json.dumps(report) + "\n")
            return
        if action == "import":
            try:
                report = photo_archive.read_tar(sys.stdin.buffer, prune=prune)
            except (photo_archive.ArchiveError, tarfile.TarError) as error:
                raise CommandError(f"import stopped: {error}") from None
        elif action == "count":
            report = {"files": sum(1 for _ in photo_archive.stored_names())}
        else:
            report = photo_archive.rows_vs_storage()
        self.stdout.write(json.dumps(report))

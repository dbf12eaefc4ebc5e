import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q

from extagram.posts.models import Post


class Command(BaseCommand):
    help = (
        "Delete photo files that no post refers to. Uploads write files before the row, "
        "so a process killed in between leaves a file behind; this sweeps those up."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=int,
            default=3600,
            help="only files older than this many seconds (default 3600: no upload in flight)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, do not delete")

    def handle(self, *args, min_age, dry_run, **options):
        root = settings.MEDIA_ROOT / "photos"
        cutoff = time.time() - min_age
        candidates = (
            {
                path.relative_to(settings.MEDIA_ROOT).as_posix(): path
                for path in root.rglob("*")
                if path.is_file() and path.stat().st_mtime < cutoff
            }
            if root.exists()
            else {}
        )
        names = list(candidates)
        used = set()
        for start in range(0, len(names), 500):
            batch = names[start : start + 500]
            rows = Post.objects.filter(Q(image_large__in=batch) | Q(image_small__in=batch))
            for large, small in rows.values_list("image_large", "image_small"):
                used.update((large, small))
        orphans = [name for name in names if name not in used]
        for name in orphans:
            if dry_run:
                self.stdout.write(name)
            else:
                candidates[name].unlink(missing_ok=True)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{len(candidates)} files checked, {verb} {len(orphans)} orphans.")

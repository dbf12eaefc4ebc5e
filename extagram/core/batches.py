"""Reading many rows a batch at a time, whatever the database.

`QuerySet.iterator()` does not bound memory on MariaDB: Django's MySQL backend has no
server-side cursors, so the driver reads the whole result into the process before the
first row is handed over (Django's documentation, QuerySet.iterator(), "With server-side
cursors": "MySQL doesn't support streaming results, hence the Python database driver
loads the entire result set into memory"). A data export of a member with 10,000 posts
and 30,000 likes peaked 97 MiB above the worker's baseline that way (docs/performance.md,
"A big account's data export"), and the app tier's replicas have 128 MB in all.
"""


def in_batches(queryset, size):
    """Yield the rows of `queryset` as lists of at most `size` rows, in primary-key order.

    Each list is one statement, `... WHERE pk > <the last pk read> ORDER BY pk LIMIT size`
    (keyset pagination: no OFFSET, so every batch costs the same), so at most one batch
    is in memory at a time. The queryset's own ordering is replaced by the primary key's.

    Rows are what the queryset yields: model instances, `values()` dicts, which must
    include "pk", `values_list()` tuples, whose first item must be the pk, or, with
    `flat=True`, the pks themselves. Rows added or deleted meanwhile are seen or not
    according to their pk, as in any keyset paging; none is read twice.

    Raises ValueError for a `size` below 1, KeyError for a dict row without "pk".
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    ordered = queryset.order_by("pk")
    page = ordered
    while rows := list(page[:size]):
        yield rows
        if len(rows) < size:
            return
        page = ordered.filter(pk__gt=_pk_of(rows[-1]))


def each_row(queryset, batch_size):
    """Yield the rows of `queryset` one at a time, in primary-key order, reading them
    `batch_size` at a time (see `in_batches`, which says what rows may be)."""
    for batch in in_batches(queryset, batch_size):
        yield from batch


def _pk_of(row):
    if isinstance(row, dict):
        return row["pk"]
    if isinstance(row, tuple):
        return row[0]
    return getattr(row, "pk", row)

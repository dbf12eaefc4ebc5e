"""Statements the ORM compiles once, run many times: for the few read on every page.

Django builds a QuerySet's SQL anew on each evaluation. For the statements a signed-in
page runs every time (a feed's rows and like marks, the unread count, a post page's post
and comments, a profile's member), building and compiling took longer than the database
took to answer: 0.65 ms against 0.34 ms for a feed page's rows (MariaDB on loopback;
docs/performance.md, "Signed-in pages: rows instead of models"), ~2 ms of CPU for a post
with its author and profile (select_related; "Post pages and profiles: statements
compiled once").
"""

import threading
from dataclasses import dataclass
from itertools import chain

from django.db.models.query import ModelIterable, get_related_populators

# Stand-in numbers for the arguments while compiling: no id or count is ever this negative,
# and down to _STAND_IN - 100,000 they still fit a 32-bit integer column (auth_user.id):
# Django compiles a lookup with a value out of its field's range as matching nothing.
_STAND_IN = -2_147_000_000
# A stand-in text ends with its number; no handle or other text argument starts like this.
_TEXT_STAND_IN = "\x1fextagram-stand-in-"


@dataclass(frozen=True)
class _Compiled:
    compiler: object
    sql: str
    # per parameter: (the argument's index, None) or (None, a constant the ORM put there)
    places: list
    # for a model QuerySet (instances()): what ModelIterable works out on each evaluation
    model: type | None = None
    init_list: tuple = ()
    fields: slice = slice(0)
    related: tuple = ()
    annotations: tuple = ()


class CompiledQuery:
    """A QuerySet shape compiled once per thread and argument shape, then run with new
    arguments.

    `build(*args)` returns the QuerySet for `args`, each an int, a str or a list of ints (an
    `__in` lookup). It is called with stand-ins to compile the SQL once per shape (how many
    arguments, each one's type, the lists' lengths, and the `limit` asked for: Django writes
    a slice's LIMIT into the SQL); each stand-in's place among the compiled parameters is
    where the real argument goes. `rows(*args)` gives the rows of a
    values_list QuerySet as it would (tuples, through the database backend's converters:
    aware datetimes, booleans); `instances(*args)` gives the model instances a model
    QuerySet would, select_related() objects attached and annotations set, as Django's
    ModelIterable builds them. A number beyond 64 bits matches no row, and a list that is
    empty (or holds only such numbers) gives nothing, without a statement, as Django's `=`
    and `IN` lookups do (a caller comparing with `<` or `>` keeps its numbers in range).

    `in_written_order`: on MariaDB and MySQL, join the tables in the order the SQL lists
    them, the QuerySet's own table first (`SELECT STRAIGHT_JOIN`, which "forces the optimizer
    to join the tables in the order in which they are listed in the FROM clause":
    https://mariadb.com/kb/en/join-syntax/), for a statement that reads a few rows of its
    table by an index and looks each one's related rows up by key. Left to choose, MariaDB
    read such a statement from the other side when the first table held many rows for the
    argument (a member's 30,000 notifications: every member first, 105,000-114,000 rows read
    for a page of 50; docs/performance.md, "Likes and comments by the thousand"). Other
    databases take the statement as Django writes it.

    Raises ValueError for a `limit` that is not a count (an int >= 0), and at compile time
    if the SQL does not carry each argument exactly once
    as a parameter (a shape this class cannot replay: build it with plain lookups), and
    TypeError if instances() is asked of a QuerySet that is not a plain model QuerySet
    (values(), prefetch_related(), or one from a related manager).
    """

    def __init__(self, build, in_written_order=False):
        self.build = build
        self.in_written_order = in_written_order
        self.local = threading.local()  # a compiler holds its thread's connection

    def rows(self, *args, limit=None):
        """The rows for these arguments (the first `limit` of them, if given): a list of
        tuples."""
        compiled, fetched = self._run(args, limit)
        if compiled is None:
            return []
        return list(compiled.compiler.results_iter(results=[fetched], tuple_expected=True))

    def instances(self, *args, limit=None):
        """The model instances for these arguments (the first `limit` of them, if given): a
        list, in the statement's order."""
        compiled, fetched = self._run(args, limit, models=True)
        if compiled is None:
            return []
        db, found = compiled.compiler.using, []
        for row in compiled.compiler.results_iter(results=[fetched]):
            obj = compiled.model.from_db(db, compiled.init_list, row[compiled.fields])
            for populator in compiled.related:
                populator.populate(row, obj)
            for name, column in compiled.annotations:
                setattr(obj, name, row[column])
            found.append(obj)
        return found

    def _run(self, args, limit, models=False):
        if limit is not None and (type(limit) is not int or limit < 0):
            raise ValueError(f"a limit is a count of rows, not {limit!r}")
        # a number no 64-bit column holds matches no row, as in Django's = and IN lookups
        args = [[n for n in arg if _fits(n)] if isinstance(arg, list) else arg for arg in args]
        if any((isinstance(arg, list) and not arg) or not _fits(arg) for arg in args):
            return None, None
        if limit == 0:  # Django's [:0]: no statement
            return None, None
        shape = (tuple(_shape(arg) for arg in args), limit)
        compiled = self._compiled(shape, models)
        flat = list(chain.from_iterable(arg if isinstance(arg, list) else [arg] for arg in args))
        params = [flat[place] if place is not None else value for place, value in compiled.places]
        with compiled.compiler.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall()

    def _compiled(self, shape, models):
        cache = getattr(self.local, "compiled", None)
        if cache is None:
            cache = self.local.compiled = {}
        if (shape, models) not in cache:
            cache[shape, models] = self._compile(shape, models)
        return cache[shape, models]

    def _compile(self, shape, models):
        kinds, limit = shape
        counter, args = iter(range(100_000)), []
        for kind in kinds:
            if kind == "int":
                args.append(_STAND_IN - next(counter))
            elif kind == "str":
                args.append(f"{_TEXT_STAND_IN}{next(counter)}")
            else:
                args.append([_STAND_IN - next(counter) for _ in range(kind)])
        queryset = self.build(*args)
        if limit is not None:  # compiled into the SQL (LIMIT n), not a parameter
            queryset = queryset[:limit]
        if models and not _is_plain_model_queryset(queryset):
            raise TypeError("instances() needs a model QuerySet with nothing prefetched")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if self.in_written_order:
            sql = _in_written_order(sql, compiler.connection.vendor)
        places = [(_stand_in_index(value), value) for value in params]
        places = [(index, None) if index is not None else (None, value) for index, value in places]
        wanted = next(counter)  # how many stand-ins there are
        if sorted(index for index, _ in places if index is not None) != list(range(wanted)):
            raise ValueError(f"the compiled statement does not carry each argument once: {sql}")
        if not models:
            return _Compiled(compiler, sql, places)
        # as ModelIterable.__iter__ (django/db/models/query.py) reads them after execute_sql
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            compiler,
            sql,
            places,
            model=klass_info["model"],
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            fields=slice(start, end),
            related=tuple(get_related_populators(klass_info, select, queryset.db)),
            annotations=tuple(compiler.annotation_col_map.items()),
        )


def _in_written_order(sql, vendor):
    """`sql` (a SELECT without DISTINCT, as Django writes it) with STRAIGHT_JOIN on
    MariaDB and MySQL (Django's vendor "mysql"), as it is elsewhere; ValueError for another
    statement, on every database."""
    if not sql.startswith("SELECT ") or sql.startswith("SELECT DISTINCT "):
        raise ValueError(f"in_written_order takes a SELECT without DISTINCT: {sql}")
    if vendor != "mysql":
        return sql
    return "SELECT STRAIGHT_JOIN " + sql.removeprefix("SELECT ")


def _fits(arg):
    return not isinstance(arg, int) or -(2**63) <= arg < 2**63


def _shape(arg):
    if isinstance(arg, list):
        return len(arg)
    if type(arg) in (int, str):
        return type(arg).__name__
    raise TypeError(f"an argument must be an int, a str or a list of ints, not {arg!r}")


def _stand_in_index(value):
    """The argument index a compiled parameter stands in for, or None for a constant."""
    if isinstance(value, int) and not isinstance(value, bool) and value <= _STAND_IN:
        return _STAND_IN - value
    if isinstance(value, str) and value.startswith(_TEXT_STAND_IN):
        return int(value.removeprefix(_TEXT_STAND_IN))
    return None


def _is_plain_model_queryset(queryset):
    return (
        queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups
        and not queryset._known_related_objects
    )

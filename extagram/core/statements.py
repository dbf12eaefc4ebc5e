"""Statements the ORM compiles once, run many times: for the few read on every page.

Django builds a QuerySet's SQL anew on each evaluation. For the statements a signed-in
feed page runs every time (its posts' rows and like marks, the unread count), building
and compiling took longer than the database took to answer: 0.65 ms against 0.34 ms for
the page's rows (MariaDB on loopback; docs/performance.md, "Signed-in pages: rows
instead of models").
"""

import threading
from itertools import chain

# Stand-in numbers for the arguments while compiling: no id or count is ever this negative,
# and down to _STAND_IN - 100,000 they still fit a 32-bit integer column (auth_user.id):
# Django compiles a lookup with a value out of its field's range as matching nothing.
_STAND_IN = -2_147_000_000


class CompiledQuery:
    """A values_list QuerySet shape compiled once per thread and argument shape, then run
    with new arguments.

    `build(*args)` returns the QuerySet for `args`, each an int or a list of ints (an
    `__in` lookup). It is called with stand-in numbers to compile the SQL once per shape
    (the lists' lengths); each stand-in's place among the compiled parameters is where the
    real argument goes. `rows(*args)` gives the rows as the QuerySet would (tuples, through
    the database backend's converters: aware datetimes, booleans). A list that is empty
    gives no rows without a statement, as Django does.

    Raises ValueError at compile time if the SQL does not carry each argument exactly once
    as a parameter (a shape this class cannot replay: build it with plain lookups).
    """

    def __init__(self, build):
        self.build = build
        self.local = threading.local()  # a compiler holds its thread's connection

    def rows(self, *args):
        """The rows for these arguments: a list of tuples."""
        if any(isinstance(arg, list) and not arg for arg in args):
            return []
        shape = tuple(len(arg) if isinstance(arg, list) else None for arg in args)
        compiled = self._compiled(shape)
        compiler, sql, places = compiled
        flat = list(chain.from_iterable(arg if isinstance(arg, list) else [arg] for arg in args))
        params = [flat[place] if place is not None else value for place, value in places]
        with compiler.connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compiled(self, shape):
        cache = getattr(self.local, "compiled", None)
        if cache is None:
            cache = self.local.compiled = {}
        if shape not in cache:
            cache[shape] = self._compile(shape)
        return cache[shape]

    def _compile(self, shape):
        stand_ins, args = iter(range(_STAND_IN, _STAND_IN - 100_000, -1)), []
        for length in shape:
            if length is None:
                args.append(next(stand_ins))
            else:
                args.append([next(stand_ins) for _ in range(length)])
        queryset = self.build(*args)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        wanted = list(chain.from_iterable(a if isinstance(a, list) else [a] for a in args))
        places = []
        for value in params:
            is_stand_in = isinstance(value, int) and value <= _STAND_IN
            places.append((_STAND_IN - value, None) if is_stand_in else (None, value))
        carried = sorted(place for place, _ in places if place is not None)
        if carried != list(range(len(wanted))):
            raise ValueError(f"the compiled statement does not carry each argument once: {sql}")
        return compiler, sql, places

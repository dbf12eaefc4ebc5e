"""What the stack tests share besides their fixtures (conftest.py). The stack, its HTTP
client and the other helpers are in extagram_ops.throwaway, shared with the drills and
the bench."""

# Lines printed at the end of the session (conftest's pytest_terminal_summary).
REPORT = []

# Callables run once the session's fixtures are all torn down (conftest's
# pytest_sessionfinish), e.g. leaving a swarm only after the compose stack is gone.
AT_SESSION_END = []

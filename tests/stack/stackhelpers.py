"""What the stack tests share besides their fixtures (conftest.py). The stack, its HTTP
client and the other helpers are in extagram_ops.throwaway, shared with the drills and
the bench."""

# Lines printed at the end of the session (conftest's pytest_terminal_summary).
REPORT = []

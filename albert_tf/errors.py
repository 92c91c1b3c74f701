"""The one exception type for bad user input.

Library code raises `UserError` for anything the user can fix (a missing file, an unknown
source, a wrong column, a bad number). The CLI turns it into one line on stderr and exit code 2;
everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: the message says what was wrong and what is allowed."""

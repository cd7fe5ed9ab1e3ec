"""The one exception the CLI turns into a single line on stderr and exit status 2.

Each stage raises its own subclass (InputError, ConfigError, FormatError, OutputError, ...),
so the CLI catches them without importing the stages that define them.
"""


class UserError(Exception):
    """Something the user must fix: bad usage, no usable input, an unwritable output."""

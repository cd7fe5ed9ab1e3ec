"""The exceptions the CLI turns into a single line on stderr and exit status 2.

Each stage raises its own subclass of UserError (InputError, FormatError, OutputError, ...), so
the CLI catches them without importing the stages that define them. ConfigError lives here
because settings are checked in several stages (thresholds and layer patterns in diagnosis,
everything else in config) and the lowest of them must not import the highest.
"""


class UserError(Exception):
    """Something the user must fix: bad usage, no usable input, an unwritable output."""


class ConfigError(UserError):
    """A setting (config file or command line) that cannot be used."""

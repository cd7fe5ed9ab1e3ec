"""reportgen: TensorBoard logs to a report people can read and understand."""

__version__ = "0.1.0"

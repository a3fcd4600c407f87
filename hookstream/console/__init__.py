"""The web console (``/ui/``), served by the admin API process."""

from hookstream.console.app import add_console

__all__ = ["add_console"]

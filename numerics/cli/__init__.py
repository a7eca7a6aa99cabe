"""The `escalier` command line: one module per sub-command, registered in `_app.COMMANDS`."""

from ._app import main as main

"""One module per ``facelift`` sub-command: each defines ``add_arguments(parser)`` and
``run(args) -> int``. engine/cli.py finds them by name."""

"""One module per command group; each has ``register(groups, common)``.

Handlers are ``handler(ctx, args) -> int`` for client commands (``needs_context`` True) or
``handler(args) -> int`` for the daemon-side ones (``daemon run``, ``config show``)."""

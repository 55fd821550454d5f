"""The `mirage` command: a thin stdlib HTTP client plus daemon control. Never imports sanic
at module level: daemon code is imported only by `mirage daemon run`."""

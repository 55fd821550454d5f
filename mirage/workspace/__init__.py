"""The workspace engine: schema, registry, mounts (vfs), shell, sessions, jobs, state store.
Knows nothing of HTTP or auth beyond an opaque account string."""

"""Who may call: bearer credentials, verifiers (static token, JWT), the local token file.

This package's __init__ imports nothing on purpose: the CLI imports
``mirage.auth.token_file`` (stdlib only) and must not pull in jwt/cryptography.

The server uses:

* ``mirage.auth.build.build_verifier(settings) -> Verifier`` — built once at start and
  on reload; raises ``ConfigError`` when the mode cannot run.
* ``mirage.auth.guard.authenticate(authorization_headers, verifier) -> Principal`` —
  raises ``AuthError`` (401) or ``BadCredentials`` (400).
* ``mirage.auth.principal.Principal`` — the account a request acts for.
"""

"""Who may call: bearer credentials, verifiers (static token, JWT), the local token file.

The server uses exactly three things from here:

* ``build_verifier(settings) -> Verifier`` — built once at start and on reload;
  raises ``ConfigError`` when the mode cannot run (missing token, bad key...).
* ``authenticate(headers, verifier) -> Principal`` — the guard's core; raises
  ``AuthError`` (401) or ``BadCredentials`` (400).
* ``Principal`` — the account a request acts for.
"""

from mirage.auth.principal import AuthError, BadCredentials, Principal, Verifier
from mirage.auth.guard import authenticate
from mirage.auth.build import build_verifier

__all__ = ["AuthError", "BadCredentials", "Principal", "Verifier", "authenticate", "build_verifier"]

"""Configuration defaults and the instance secret key."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # None means SQLite in the instance folder (see database_url()).
    "DATABASE_URL": None,
    # SQLite durability: FULL fsyncs the WAL on every commit, so an
    # acknowledged save survives a power cut, not only a process crash.
    # Measured here it costs about 0.2 ms per commit (NORMAL: 0.02 ms), which
    # the save path can afford; set NORMAL for throw-away databases.
    "SQLITE_SYNCHRONOUS": "FULL",
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    # Requests: uploads of articles are the biggest bodies we accept.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500 * 1024,
    "MAX_FORM_PARTS": 1000,
    # Largest single article file the importer accepts (CLI and web).
    "IMPORT_MAX_BYTES": 16 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Secure cookies are only sent over HTTPS: set ANNOTATOR_SESSION_COOKIE_SECURE=true
    # when the app is reached through HTTPS (a TLS reverse proxy). Off by
    # default, or logging in over plain http://127.0.0.1 would never work.
    "SESSION_COOKIE_SECURE": False,
    # Login rate limits (annotator.login_limits), shared by every process
    # through the database: attempts that did not prove right, per account
    # and per client address, in a sliding window. 0 turns a limit off.
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    # How many reverse proxies in front of the app append to X-Forwarded-For.
    # 0 trusts none of it: request.remote_addr is the TCP peer, so a client
    # cannot pick the address the login limit counts. Behind one proxy
    # (nginx, Caddy) that sets the header, use 1.
    "PROXY_FIX_X_FOR": 0,
    # The cookie lives as long as the server-side login session (14 days from
    # login, auth.SESSION_LIFETIME) and is not re-signed on every response.
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "SESSION_REFRESH_EACH_REQUEST": False,
    "WTF_CSRF_TIME_LIMIT": None,
}

SECRET_FILE = "secret_key"
# Flask signs the session cookie with HMAC-SHA1 (itsdangerous): a key shorter
# than this, or a well-known placeholder, can be guessed offline from one cookie.
SECRET_KEY_MIN_LENGTH = 32
WEAK_SECRET_KEYS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "default",
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "your_secret_key",
        "please-change-me",
        "insecure",
        "test",
    }
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names it."""


def as_bool(value: Any, name: str) -> bool:
    """A boolean setting from a bool, 0/1 or the words true/false/yes/no/on/off.

    ``from_prefixed_env`` decodes JSON, so ``true`` arrives as True but
    ``True`` or ``yes`` arrive as strings, which would all be truthy.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def as_count(value: Any, name: str, *, maximum: int) -> int:
    """A whole number from 0 to ``maximum`` (ints, or digits in a string)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, not {value!r}")
    return value


def secret_key_problem(key: Any) -> str | None:
    """Why ``key`` must not sign production cookies, or None when it is fine."""
    if not key:
        return "no secret key"
    if not isinstance(key, str | bytes):
        return "the secret key is not a string"
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if text.strip().lower() in WEAK_SECRET_KEYS:
        return "the secret key is a well-known placeholder"
    if len(text) < SECRET_KEY_MIN_LENGTH:
        return f"the secret key is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(text)) < 8:
        return "the secret key repeats too few characters to be random"
    return None


def database_url(config: dict[str, Any], instance_path: str) -> str:
    """The configured SQLAlchemy URL, or SQLite in the instance folder."""
    url = config.get("DATABASE_URL")
    if url:
        return str(url)
    return "sqlite:///" + os.path.join(instance_path, "annotator.sqlite3")


def load_or_create_secret(instance_path: str) -> str:
    """Read the instance's secret key, creating it once with mode 0600.

    There is deliberately no built-in default: a shared hard-coded key lets
    anyone forge sessions (Label Studio, CVE-2023-43791).
    """
    path = Path(instance_path) / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def production_problems(
    config: Mapping[str, Any], *, debug: bool, host: str | None, production: bool = True
) -> list[str]:
    """Why the app must not serve, one sentence per problem (empty: it may).

    Production mode is serving other people: ``annotator serve`` (gunicorn,
    on any address), ``annotator run`` bound to an address other than
    loopback, and the WSGI factory ``annotator.wsgi:create_production_app()``
    (``host`` None: the bind address is the WSGI server's, so unknown). Not
    production: ``annotator run`` on loopback and ``annotator demo`` (one
    person on their own machine), tests, and the commands that serve nothing.
    In production the secret key must exist (set, or the instance's key file
    readable or creatable), must not be a well-known placeholder, shorter
    than 32 characters or visibly not random. Debug mode (``--debug``,
    FLASK_DEBUG or ANNOTATOR_DEBUG) is refused in every mode unless bound to
    loopback: the Werkzeug debugger runs code for whoever reaches it.
    """
    problems = []
    problem = config.get("SECRET_KEY_ERROR") or secret_key_problem(config.get("SECRET_KEY"))
    if production and problem:
        problems.append(
            f"refusing to serve: {problem}; set ANNOTATOR_SECRET_KEY to at least "
            f"{SECRET_KEY_MIN_LENGTH} random characters (python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'), or unset it and let annotator keep one "
            "in a writable instance folder"
        )
    if debug and (host is None or not is_loopback(host)):
        where = f"on {host}" if host else "under a WSGI server"
        problems.append(
            f"refusing to run with debug {where}: the debugger runs code for anyone "
            "who can reach it; bind to 127.0.0.1 or turn debug off"
        )
    return problems

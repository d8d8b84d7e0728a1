"""Security headers on every response: pages, the API, errors and static files."""

from __future__ import annotations

from flask import Flask, Response

# No inline script or style anywhere (templates/ and static/ are checked by
# tests/test_headers.py), so the policy can be strict: scripts and styles only
# from our own files, nothing framed, no plugins, forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Same-origin requests keep the full URL (nothing breaks); other sites
    # never see article or unit ids in a Referer.
    "Referrer-Policy": "same-origin",
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    # A page we open in a new tab (an article's source URL) cannot reach back.
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    """Add CSP, nosniff, referrer, framing and opener headers to every response."""

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

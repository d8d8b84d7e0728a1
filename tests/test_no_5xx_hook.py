"""The autouse no_unexpected_5xx hook really fails a test that receives a 5xx."""

from __future__ import annotations

import pytest
from flask import Flask


def _add_broken_route(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/__broken", "broken_for_test", broken)


def test_a_5xx_fails_the_test(app: Flask) -> None:
    _add_broken_route(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with pytest.raises(pytest.fail.Exception, match="unexpected HTTP 500"):
        app.test_client().get("/__broken")


@pytest.mark.expect_5xx
def test_a_declared_5xx_passes(app: Flask) -> None:
    _add_broken_route(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/__broken").status_code == 500

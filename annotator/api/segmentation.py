"""/api/v1 routes for segmentation (being written)."""

from __future__ import annotations

from typing import Any

OPENAPI_PATHS: dict[str, Any] = {}

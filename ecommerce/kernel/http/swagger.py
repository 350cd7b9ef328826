"""Serve Swagger UI's assets from the ``swagger-ui-bundle`` package instead of a CDN.

Why: the docs UI must work on a laptop or CI machine with no internet. sanic-ext renders the page;
we point its "CDN" at ``/docs/assets`` and serve the files that ship in the Python package.
"""

from __future__ import annotations

from pathlib import Path

from sanic import HTTPResponse, Request, Sanic
from sanic.response import file
from sanic_ext import openapi
from swagger_ui_bundle import swagger_ui_path

from ecommerce.kernel.errors import NotFound

ASSETS = Path(swagger_ui_path)
#: The names sanic-ext's page asks for, and the file each one is.
_FILES = {
    "swagger-ui.min.css": "swagger-ui.css",
    "swagger-ui-bundle.min.js": "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.min.js": "swagger-ui-standalone-preset.js",
}


#: sanic-ext settings that make its Swagger page load ``/docs/assets/*`` (apply before ``Extend``), and the
#: Swagger UI configuration it serves at ``/docs/swagger-config``: every operation starts collapsed
#: (sanic-ext's default expands all of them, a page hundreds of screens long).
CONFIG = {
    "OAS_UI_SWAGGER_CDN_URL": "/docs",
    "OAS_UI_SWAGGER_VERSION": "assets",
    "SWAGGER_UI_CONFIGURATION": {"apisSorter": "alpha", "operationsSorter": "alpha", "docExpansion": "none"},
}


def install_offline_swagger(app: Sanic) -> None:
    @app.get("/docs/assets/<name:str>")
    @openapi.exclude()
    async def swagger_asset(request: Request, name: str) -> HTTPResponse:
        real = _FILES.get(name)
        if real is None:
            raise NotFound(f"No documentation asset named {name!r}.")
        return await file(ASSETS / real, headers={"Cache-Control": "public, max-age=86400"})

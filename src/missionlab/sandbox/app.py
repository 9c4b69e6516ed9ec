"""The sandbox's FastAPI app, built by :func:`create_app` around a store it is handed."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from .errors import Invalid, SandboxError, error_response
from .faults import FaultMiddleware, Faults
from .guard import RequestGuard
from .links import add_links
from .routes import build_router
from .simulator import Simulator
from .store import Store

API_PREFIX = "/v2"
MAX_FAULTS_BYTES = 64 * 1024  # PUT /_sandbox/faults body


def _validation_body(errors: Any) -> dict[str, Any]:
    # FastAPI's shape, without "input"/"ctx": an error never echoes the request back.
    return {
        "detail": [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "invalid")),
                "type": str(e.get("type", "value_error")),
            }
            for e in errors
        ]
    }


def _auth_dependency(token: str | None) -> Any:
    bearer = HTTPBearer(auto_error=False, description="Bearer <TELNYX_API_KEY>")

    # A default value rather than Annotated: the annotation would name a local variable.
    async def check(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise SandboxUnauthorized

    return check


class _Unauthorized(SandboxError):
    status, code, title = 401, "unauthorized", "Unauthorized"


SandboxUnauthorized = _Unauthorized(
    "Missing or wrong bearer token: send 'Authorization: Bearer <token>' with the sandbox's token"
)


def create_app(
    store: Store,
    *,
    token: str | None = None,
    speed: float = 1.0,
    seed: int = 0,
    faults: Faults | None = None,
    simulate: bool = True,
    allowed_hosts: Iterable[str] = (),
) -> FastAPI:
    """The Missions API over ``store``.

    ``token``: when given, requests must carry ``Authorization: Bearer <token>``.
    ``allowed_hosts``: Host names answered besides 127.0.0.1, localhost and [::1] (see
    :mod:`.guard`: requests from other hosts or origins are refused with 403).
    ``speed``: how many simulated seconds a managed run advances per real second.
    ``faults``: injected errors, 429s, latency and dropped connections (see :mod:`.faults`).
    ``simulate``: run the managed-run simulator in the background (off where a test wants
    nothing written unasked).
    """
    simulator = Simulator(store, speed=speed, seed=seed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if simulate:
            simulator.resume_saved()
            task = simulator.run_in_background()
        try:
            yield
        finally:
            if simulate:
                task.cancel()

    app = FastAPI(
        title="Telnyx AI Missions API (missionlab sandbox)",
        version="2.0.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    build_document = app.openapi

    def document_with_links() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_links(build_document())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = document_with_links  # type: ignore[method-assign]
    app.state.store = store
    app.state.simulator = simulator
    app.state.faults = faults or Faults()

    app.include_router(
        build_router(store, simulator), prefix=API_PREFIX, dependencies=[Depends(_auth_dependency(token))]
    )

    @app.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        if isinstance(exc, Invalid):
            return JSONResponse(
                {"detail": [{"loc": exc.loc, "msg": exc.detail, "type": "value_error"}]}, status_code=422
            )
        return error_response(exc.status, exc.code, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_validation_body(exc.errors()), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not decode the body (e.g. not UTF-8)
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "Body is not valid JSON", "type": "json_invalid"}]},
                status_code=422,
            )
        title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
        detail = (
            f"No route {request.method} {request.url.path}"
            if exc.status_code in (404, 405)
            else str(exc.detail)
        )
        return error_response(exc.status_code, title.lower().replace(" ", "_"), title, detail)

    auth = [Depends(_auth_dependency(token))]

    @app.get("/_sandbox/faults", include_in_schema=False, dependencies=auth)
    async def get_faults() -> dict[str, Any]:
        return app.state.faults.to_dict()  # type: ignore[no-any-return]

    @app.put("/_sandbox/faults", include_in_schema=False, dependencies=auth)
    async def set_faults(request: Request) -> Any:
        body = await request.body()
        if len(body) > MAX_FAULTS_BYTES:
            detail = f"fault settings are limited to {MAX_FAULTS_BYTES:,} bytes"
            return error_response(413, "too_large", "Content Too Large", detail)
        try:
            app.state.faults.update(json.loads(body))
        except (TypeError, ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return error_response(422, "invalid_faults", "Unprocessable Entity", detail[:500])
        return app.state.faults.to_dict()

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(FaultMiddleware, faults=app.state.faults, prefix=API_PREFIX)
    app.add_middleware(RequestGuard, allowed_hosts=tuple(allowed_hosts))  # outermost: before anything
    return app

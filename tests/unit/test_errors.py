"""The error contract on a bare app: ApiError, validation and unknown routes all answer {code, message}."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from services.common.auth import require_roles
from services.common.errors import ApiError, install_error_handlers
from services.common.sessions import sign_session, signing_key
from services.common.settings import dev_value


class Body(BaseModel):
    count: int


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    def things(body: Body):
        if body.count > 3:
            raise ApiError(409, "too_many", "At most three things may be asked for.")
        return {"ok": True}

    @app.get("/ddo-only")
    def ddo_only(_=__import__("fastapi").Depends(require_roles("ddo"))):
        return {"ok": True}

    return app


def test_error_shapes():
    client = TestClient(make_app())
    r = client.post("/things", json={"count": 9})
    assert r.status_code == 409 and r.json() == {
        "code": "too_many",
        "message": "At most three things may be asked for.",
    }
    r = client.post("/things", json={"count": "many"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request" and "count" in r.json()["message"]
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/ddo-only")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    token = sign_session(signing_key(dev_value("session_signing_key")), "EMP1", 600)
    r = client.get("/ddo-only", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_an_outage_of_the_database_or_temporal_is_a_503_with_retry_after_never_a_500():

    import asyncpg
    from temporalio.service import RPCError, RPCStatusCode

    outages = {
        "refused": ConnectionRefusedError(111, "Connection refused"),
        "slow": TimeoutError(),
        "starting": asyncpg.CannotConnectNowError("the database system is starting up"),
        "closed": asyncpg.InterfaceError("connection is closed"),
        "died_mid_query": asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        "temporal": RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""),
    }
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down/{what}")
    async def down(what: str):
        raise outages[what]

    client = TestClient(app, raise_server_exceptions=False)
    for what in outages:
        r = client.get(f"/down/{what}")
        assert r.status_code == 503, (what, r.text)
        assert r.json()["code"] == "temporarily_unavailable" and int(r.headers["retry-after"]) > 0


def test_the_same_act_done_twice_at_once_is_a_409_not_a_500():
    import asyncpg

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/documents")
    async def upload():
        raise asyncpg.UniqueViolationError('duplicate key value violates unique constraint "document_pkey"')

    r = TestClient(app, raise_server_exceptions=False).post("/documents")
    assert r.status_code == 409 and r.json()["code"] == "already_done"


def test_a_number_too_large_for_the_database_is_a_422_not_a_500():
    """Found by the API fuzzer: `?offset=10**26` reached asyncpg, which refused it (DataError), and came back as
    a 500."""
    import asyncpg

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/rows")
    async def rows(offset: int = 0):
        raise asyncpg.DataError(f"invalid input for query argument $5: {offset} (value out of int64 range)")

    r = TestClient(app, raise_server_exceptions=False).get("/rows", params={"offset": 10**26})
    assert r.status_code == 422 and r.json()["code"] == "invalid_value"

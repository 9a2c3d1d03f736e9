"""OAuth2 client credentials against both token issuers, and bearer checks on the API."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from .support import CREDENTIALS, Live

Serve = Callable[..., Live]


def test_form_credentials_get_a_working_bearer_token(serve: Serve) -> None:
    live = serve()
    response = live.fetch_token()
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    devices = live.http.get(
        "/devices/v1/devices", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert devices.status_code == 200


def test_basic_auth_with_grant_type_only_in_the_form(serve: Serve) -> None:
    live = serve()
    basic = httpx.BasicAuth(CREDENTIALS["client_id"], CREDENTIALS["client_secret"])
    response = live.http.post(live.server.token_url, data={"grant_type": "client_credentials"}, auth=basic)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert live.http.get(
        "/subscriptions/v1/subscriptions", headers={"Authorization": f"Bearer {token}"}
    ).is_success


def test_workspace_scoped_issuer(serve: Serve) -> None:
    live = serve()
    form = {"grant_type": "client_credentials", **CREDENTIALS}
    assert live.server.workspace_token_url.endswith(
        f"/authorization/v2/oauth2/{live.sim.config.workspace_id}/token"
    )
    assert live.http.post(live.server.workspace_token_url, data=form).status_code == 200
    other = live.http.post("/authorization/v2/oauth2/" + "0" * 32 + "/token", data=form)
    assert other.status_code == 401
    assert other.json()["error"] == "invalid_client"
    hyphenated = "/authorization/v2/oauth2/12345678-1234-1234-1234-123456789012/token"
    assert live.http.post(hyphenated, data=form).status_code == 404


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "glp-sim-client", "client_secret": "wrong"},
        {"client_id": "someone-else", "client_secret": "glp-sim-secret"},
        {"client_id": "glp-sim-client"},
        {},
    ],
)
def test_bad_credentials_are_invalid_client(serve: Serve, form: dict[str, str]) -> None:
    live = serve()
    response = live.http.post("/as/token.oauth2", data={"grant_type": "client_credentials", **form})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_bad_basic_credentials_challenge(serve: Serve) -> None:
    live = serve()
    response = live.http.post("/as/token.oauth2", data={"grant_type": "client_credentials"},
                              auth=httpx.BasicAuth("glp-sim-client", "nope"))  # fmt: skip
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_grant_type_errors(serve: Serve) -> None:
    live = serve()
    missing = live.http.post("/as/token.oauth2", data=CREDENTIALS)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    wrong = live.fetch_token(grant_type="password")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "unsupported_grant_type"
    as_json = live.http.post("/as/token.oauth2", json={"grant_type": "client_credentials", **CREDENTIALS})
    assert as_json.status_code == 400


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic Zm9vOmJhcg==", "Bearer"])
def test_api_refuses_missing_or_unknown_tokens(serve: Serve, authorization: str | None) -> None:
    live = serve()
    headers = {"Authorization": authorization} if authorization else {}
    response = live.http.get("/devices/v1/devices", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["errorCode"] == "HPE_GL_ERROR_UNAUTHORIZED"
    assert body["httpStatusCode"] == 401
    assert body["debugId"]


def test_expire_tokens_invalidates_every_issued_token(serve: Serve) -> None:
    live = serve()
    old = live.token
    assert live.get("/devices/v1/devices", limit=1).status_code == 200
    live.sim.expire_tokens()
    response = live.http.get("/devices/v1/devices", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert "expired" in response.json()["message"]
    fresh = live.fetch_token().json()["access_token"]
    assert (
        live.http.get("/devices/v1/devices", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    )


def test_tokens_really_expire_after_their_ttl(serve: Serve) -> None:
    live = serve(token_ttl_seconds=1)
    token = live.fetch_token().json()
    assert token["expires_in"] == 1
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert live.http.get("/devices/v1/devices", headers=headers).status_code == 200
    time.sleep(1.1)
    assert live.http.get("/devices/v1/devices", headers=headers).status_code == 401


def test_early_expiry_ignores_the_advertised_lifetime(serve: Serve) -> None:
    live = serve()
    live.sim.faults.token_ttl_override = 0.3
    token = live.fetch_token().json()
    assert token["expires_in"] == 900
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    time.sleep(0.4)
    assert live.http.get("/devices/v1/devices", headers=headers).status_code == 401


def test_faults_spare_the_token_endpoint_unless_asked(serve: Serve) -> None:
    live = serve()
    live.sim.faults.error_rate = 1.0
    live.sim.faults.drop_rate = 1.0
    assert live.fetch_token().status_code == 200
    live.sim.faults.token_error_rate = 1.0
    response = live.fetch_token()
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_token_requests_are_logged(serve: Serve) -> None:
    live = serve()
    live.fetch_token()
    live.fetch_token(client_secret="bad")
    token_calls = [r for r in live.sim.request_log if r.path == "/as/token.oauth2"]
    assert [(r.method, r.status) for r in token_calls] == [("POST", 200), ("POST", 401)]

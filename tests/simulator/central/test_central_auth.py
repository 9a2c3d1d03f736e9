"""Both token flows: New Central client credentials, Classic refresh tokens that rotate, kinds kept apart."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from .support import NEW, CentralLive

Central = Callable[..., CentralLive]
APS = "/monitoring/v2/aps"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_new_central_token_by_form_and_by_basic(central: Central) -> None:
    live = central()
    response = live.fetch_new_token()
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 7200
    assert body["token_type"] == "Bearer"
    assert live.http.get(f"{NEW}/devices", headers=_bearer(body["access_token"])).status_code == 200
    basic = httpx.BasicAuth(live.sim.config.client_id, live.sim.config.client_secret)
    by_basic = live.http.post("/as/token.oauth2", data={"grant_type": "client_credentials"}, auth=basic)
    assert by_basic.status_code == 200
    assert live.http.get(f"{NEW}/aps", headers=_bearer(by_basic.json()["access_token"])).status_code == 200


def test_new_central_token_lifetime_is_configurable(central: Central) -> None:
    assert central(token_ttl_seconds=60).fetch_new_token().json()["expires_in"] == 60


@pytest.mark.parametrize("form", [{"client_secret": "wrong"}, {"client_id": "someone-else"}])
def test_new_central_bad_credentials(central: Central, form: dict[str, str]) -> None:
    response = central().fetch_new_token(**form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing"), (_bearer("not-a-token"), "invalid"), ({"Authorization": "Basic abc"}, "missing")],
)
def test_new_central_refuses_without_a_valid_token(
    shared_central: CentralLive, headers: dict[str, str], message: str
) -> None:
    response = shared_central.http.get(f"{NEW}/devices", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["httpStatusCode"] == 401
    assert body["errorCode"] == "HPE_GL_ERROR_UNAUTHORIZED"
    assert message in body["message"]
    assert body["debugId"]


def test_expired_tokens_are_refused_in_each_generation(central: Central) -> None:
    live = central()
    assert live.get(f"{NEW}/devices", limit=1).status_code == 200
    assert live.get(APS, limit=1).status_code == 200
    live.sim.expire_tokens()
    new = live.get(f"{NEW}/devices", limit=1)
    assert new.status_code == 401
    assert "expired" in new.json()["message"]
    classic = live.get(APS, limit=1)
    assert classic.status_code == 401
    assert classic.json()["error"] == "invalid_token"


def test_token_ttl_override_expires_tokens_already_issued(central: Central) -> None:
    live = central()
    assert live.get(f"{NEW}/devices", limit=1).status_code == 200
    assert live.get(APS, limit=1).status_code == 200
    live.sim.faults.token_ttl_override = 0.001
    time.sleep(0.01)
    assert live.get(f"{NEW}/devices", limit=1).status_code == 401
    assert live.get(APS, limit=1).json()["error"] == "invalid_token"


def test_tokens_are_bound_to_their_generation(central: Central) -> None:
    live = central()
    on_classic = live.http.get(APS, headers=_bearer(live.new_token))
    assert on_classic.status_code == 401
    assert on_classic.json()["error"] == "invalid_token"
    on_new = live.http.get(f"{NEW}/devices", headers=_bearer(live.classic_token))
    assert on_new.status_code == 401
    assert on_new.json()["errorCode"] == "HPE_GL_ERROR_UNAUTHORIZED"
    assert "Classic" in on_new.json()["message"]


def test_classic_refresh_rotates_the_refresh_token(central: Central) -> None:
    live = central()
    first = live.refresh_classic(live.sim.config.classic_refresh_token)
    assert first.status_code == 200
    body = first.json()
    assert body["expires_in"] == 7200
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] != live.sim.config.classic_refresh_token
    assert live.http.get(APS, headers=_bearer(body["access_token"])).status_code == 200
    reused = live.refresh_classic(live.sim.config.classic_refresh_token)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    second = live.refresh_classic(body["refresh_token"])
    assert second.status_code == 200
    assert live.refresh_classic(body["refresh_token"]).status_code == 400
    third = live.refresh_classic(second.json()["refresh_token"])
    assert third.status_code == 200
    assert live.http.get(APS, headers=_bearer(third.json()["access_token"])).status_code == 200


def test_classic_token_parameters_belong_in_the_query_string(central: Central) -> None:
    live = central()
    config = live.sim.config
    form = {"client_id": config.classic_client_id, "client_secret": config.classic_client_secret,
            "grant_type": "refresh_token", "refresh_token": config.classic_refresh_token}  # fmt: skip
    in_body = live.http.post("/oauth2/token", data=form)
    assert in_body.status_code == 400
    assert in_body.json()["error"] == "invalid_request"
    assert live.sim.refresh_tokens.is_valid(config.classic_refresh_token)  # not consumed


def test_classic_refresh_refuses_bad_client_and_other_grants(central: Central) -> None:
    live = central()
    token = live.sim.config.classic_refresh_token
    wrong = live.refresh_classic(token, client_secret="wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert live.refresh_classic(token, grant_type="authorization_code").json()["error"] == (
        "unsupported_grant_type"
    )
    assert live.refresh_classic("never-issued").json()["error"] == "invalid_grant"
    assert live.refresh_classic(token).status_code == 200  # failed attempts did not consume it


def test_classic_token_lifetime_is_configurable(central: Central) -> None:
    live = central(classic_token_ttl_seconds=30)
    assert live.refresh_classic(live.sim.config.classic_refresh_token).json()["expires_in"] == 30

"""The Central-only errors. Everything else the Central clients raise is the shared hierarchy of
`glp_pipeline.greenlake.errors` (one hierarchy for every face to catch), with messages naming Aruba Central.

    GreenLakeError
    ├── AuthenticationError
    │   ├── CentralNotConfiguredError        the chosen mode lacks a setting (named in the message)
    │   └── RefreshTokenRejectedError        Classic refused the refresh token: a person must paste a new one
    └── ApiError
        └── BadRequestError
            └── UnknownQueryParameterError   New Central refused a query parameter: a bug of this client
"""

from __future__ import annotations

from typing import Any

from glp_pipeline.greenlake.errors import AuthenticationError, BadRequestError


class CentralNotConfiguredError(AuthenticationError):
    """Aruba Central is not configured (or not completely) for the mode asked for."""


class RefreshTokenRejectedError(AuthenticationError):
    """Classic Central refused the refresh token (expired, revoked, or already rotated elsewhere)."""


class UnknownQueryParameterError(BadRequestError):
    """New Central's network-monitoring API answered 400 "Unknown query parameter".

    Those APIs refuse any parameter they do not define, so this is never a data problem: the client sent a
    parameter the API (or this API version) does not have, i.e. a bug of GLP Sync's Central client or a
    filter the endpoint does not support. `parameter` names it.
    """

    def __init__(self, message: str, *, parameter: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.parameter = parameter

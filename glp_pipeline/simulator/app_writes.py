"""The simulator's write surface (greenlake-api.md B.5-B.7, C.4) and the service catalog it leans on.

Thin handlers, like app.py's: authentication and the endpoint's budget first (the guard app.py passes in),
then the synchronous checks of write_checks.py (400 envelope; 415 for the wrong media type), then an async
operation whose change runs in store.py when it completes (asyncops.py). Every write answers 202 with
`Location: /{devices|subscriptions}/v1/async-operations/{id}` and `{code, status, transactionId}`; v2beta1
writes point at the v1 async-operation path, as documented (there is no v2beta1 one).

Choices where the docs are silent: an unknown device id, an unknown application, a region the application
does not serve, and an unknown, unfitting or exhausted subscription fail that device in the operation's
result rather than the whole request; a serial already claimed fails in the operation, never synchronously
(captured behaviour). `dry-run=true` on POST answers 202 too; its operation reports what would happen and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import write_checks as checks
from .asyncops import Outcome
from .errors import ApiError, bad_request, json_response
from .store import WriteReport

if TYPE_CHECKING:
    from .core import GreenLakeSimulator

Guard = Callable[[Request], None]
MERGE_PATCH = "application/merge-patch+json"


def write_routes(sim: GreenLakeSimulator, guard: Guard) -> list[Route]:
    """The routes of the write endpoints, async operations and the service catalog."""
    handlers = _WriteHandlers(sim, guard)
    return [
        Route("/devices/v1/devices", handlers.patch_devices("v1"), methods=["PATCH"]),
        Route("/devices/v2beta1/devices", handlers.patch_devices("v2beta1"), methods=["PATCH"]),
        Route("/devices/v1/devices", handlers.add_devices("v1"), methods=["POST"]),
        Route("/devices/v2beta1/devices", handlers.add_devices("v2beta1"), methods=["POST"]),
        Route("/devices/v1/async-operations/{id}", handlers.operation("devices"), methods=["GET"]),
        Route("/subscriptions/v1/subscriptions", handlers.patch_subscriptions, methods=["PATCH"]),
        Route(
            "/subscriptions/v1/async-operations/{id}", handlers.operation("subscriptions"), methods=["GET"]
        ),
        Route("/service-catalog/v1/service-managers", handlers.service_managers, methods=["GET"]),
        Route("/service-catalog/v1/per-region-service-managers", handlers.per_region, methods=["GET"]),
    ]


def patch_outcome(report: WriteReport) -> Outcome:
    """Per-device result of a PATCH: FAILED when every device failed, else SUCCEEDED (failures listed)."""
    result = {
        "succeededDevices": [{"id": device_id} for device_id, _ in report.succeeded],
        "failedDevices": [
            {"id": f.id, "serialNumber": f.serial_number, "errorCode": f.error_code, "message": f.message}
            for f in report.failed
        ],
    }
    return Outcome("FAILED" if report.failed and not report.succeeded else "SUCCEEDED", result)


def add_outcome(report: WriteReport, *, dry_run: bool) -> Outcome:
    """Result of a POST (add): all failed is the captured `{"failedDevicesSerial": [...]}` at 0 %."""
    failed = [f.serial_number for f in report.failed]
    if failed and not report.succeeded:
        return Outcome("FAILED", {"failedDevicesSerial": failed}, progress=0)
    succeeded = [
        {"serialNumber": serial} if dry_run else {"id": device_id, "serialNumber": serial}
        for device_id, serial in report.succeeded
    ]
    return Outcome("SUCCEEDED", {"succeededDevices": succeeded, "failedDevicesSerial": failed})


class _WriteHandlers:
    def __init__(self, sim: GreenLakeSimulator, guard: Guard) -> None:
        self.sim = sim
        self.guard = guard

    # --- helpers --------------------------------------------------------------------------------

    def _times_out(self) -> bool:
        faults = self.sim.faults
        if faults.async_timeout_burst:
            faults.async_timeout_burst -= 1
            return True
        return bool(faults.async_timeout_rate) and self.sim.fault_rng.random() < faults.async_timeout_rate

    def _accepted(self, request: Request, namespace: str, result_type: str, run: Any) -> Response:
        op = self.sim.operations.submit(namespace, result_type, run, times_out=self._times_out())
        headers = {**request.state.rate_headers, "Location": f"/{namespace}/v1/async-operations/{op.id}"}
        body = {"code": 202, "status": "202 ACCEPTED", "transactionId": op.id}
        return json_response(body, 202, headers)

    def _media_type(self, request: Request, expected: str, status: int) -> None:
        given = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if given != expected:
            shown = given or "none"
            raise ApiError(status, f"Content-Type must be {expected}, got {shown}")

    @staticmethod
    async def _json(request: Request) -> Any:
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise bad_request("the body is not valid JSON", "body", "body") from None

    @staticmethod
    def _dry_run(request: Request) -> bool:
        value = request.query_params.get("dry-run", "false").strip().lower()
        if value not in ("true", "false"):
            raise bad_request(f"dry-run must be true or false, got {value!r}", "query.parameter", "dry-run")
        return value == "true"

    # --- devices ----------------------------------------------------------------------------------

    def patch_devices(self, version: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            self.guard(request)
            config = self.sim.config
            self._media_type(request, MERGE_PATCH, config.wrong_content_type_status)
            maximum = config.patch_v2_max_ids if version == "v2beta1" else config.patch_v1_max_ids
            ids = checks.patch_ids(request.query_params.getlist("id"), maximum)
            patch = checks.device_patch(version, await self._json(request), config)

            def run() -> Outcome:
                report = self.sim.inventory.patch_devices(
                    ids, patch, self.sim.catalog, self.sim.config.tags_max_per_device
                )
                return patch_outcome(report)

            return self._accepted(request, "devices", patch.result_type, run)

        return handler

    def add_devices(self, version: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            self.guard(request)
            self._media_type(request, "application/json", 415)
            dry_run = self._dry_run(request)
            body = await self._json(request)
            config = self.sim.config
            if version == "v2beta1":
                devices = checks.device_add_v2(body, config)
            else:
                devices = checks.devices_add(body, config)

            def run() -> Outcome:
                report = self.sim.inventory.add_devices(devices, self.sim.write_rng, commit=not dry_run)
                return add_outcome(report, dry_run=dry_run)

            return self._accepted(request, "devices", "postDevicesResponse", run)

        return handler

    def operation(self, namespace: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            self.guard(request)
            op_id = request.path_params["id"]
            body = self.sim.operations.poll(namespace, op_id)
            if body is None:
                raise ApiError(
                    404, f"async operation {op_id} not found (unknown, or expired 24 h after it ended)"
                )
            return json_response(body, 200, request.state.rate_headers)

        return handler

    # --- subscriptions ----------------------------------------------------------------------------

    async def patch_subscriptions(self, request: Request) -> Response:
        """PATCH /subscriptions/v1/subscriptions?id=...: tags only (C.4)."""
        self.guard(request)
        config = self.sim.config
        self._media_type(request, MERGE_PATCH, config.wrong_content_type_status)
        ids = checks.patch_ids(request.query_params.getlist("id"), config.subscription_patch_max_ids)
        body = await self._json(request)
        if not isinstance(body, dict) or set(body) != {"tags"}:
            raise checks.body_issue(
                "the body must be {tags: {...}}: subscriptions take tag updates only", "tags"
            )
        tags = checks.tag_update(body["tags"], config, allow_null=True)
        if self._dry_run(request):
            return self._accepted(request, "subscriptions", "PatchSubscriptionResponse", lambda: Outcome(
                "SUCCEEDED", {"succeededSubscriptions": [{"id": i} for i in ids], "failedSubscriptions": []}
            ))  # fmt: skip

        def run() -> Outcome:
            report = self.sim.inventory.patch_subscription_tags(ids, tags, config.tags_max_per_device)
            result = {
                "succeededSubscriptions": [{"id": sub_id} for sub_id, _ in report.succeeded],
                "failedSubscriptions": [
                    {"id": f.id, "key": f.serial_number, "errorCode": f.error_code, "message": f.message}
                    for f in report.failed
                ],
            }
            return Outcome("FAILED" if report.failed and not report.succeeded else "SUCCEEDED", result)

        return self._accepted(request, "subscriptions", "PatchSubscriptionResponse", run)

    # --- service catalog ----------------------------------------------------------------------------

    def _catalog_page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        params = request.query_params
        offset = checks.non_negative(params.get("offset"), 0, "offset")
        limit = checks.non_negative(params.get("limit"), 2000, "limit")
        if not 1 <= limit <= 2000:
            raise bad_request(f"limit must be between 1 and 2000, got {limit}", "query.parameter", "limit")
        page = items[offset : offset + limit]
        body = {"items": page, "count": len(page), "offset": offset, "total": len(items)}
        return json_response(body, 200, request.state.rate_headers)

    async def service_managers(self, request: Request) -> Response:
        self.guard(request)
        return self._catalog_page(request, self.sim.catalog.managers_json())

    async def per_region(self, request: Request) -> Response:
        self.guard(request)
        return self._catalog_page(request, self.sim.catalog.per_region_json())

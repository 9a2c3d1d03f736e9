"""The GreenLake Platform HTTP client of GLP Sync: auth, pacing, retries, circuit breaker, complete paging,
and the device writes (PATCH/POST with their async operations) over the same machinery.

    from glp_pipeline.greenlake import GreenLakeClient, ClientConfig
    with GreenLakeClient.from_settings(get_settings()) as client:
        pages = client.list_devices()
        for page in pages:
            ...                      # merge page.items on id
        pages.result.ids             # the unique ids of one consistent pass

        op = DeviceOperation.assign_application(manager_id, "eu-central")
        outcomes = client.apply_device_operation(op, device_ids, on_submit=journal)

Errors live in `glp_pipeline.greenlake.errors`.
"""

from glp_pipeline.greenlake.client import GreenLakeClient
from glp_pipeline.greenlake.config import DEVICES_PATH, DEVICES_V2_PATH, SUBSCRIPTIONS_PATH, ClientConfig
from glp_pipeline.greenlake.errors import AsyncOperationTimeoutError, WriteOutcomeUnknownError
from glp_pipeline.greenlake.paging import Page, PageIterator, PagingResult
from glp_pipeline.greenlake.stats import ClientStats
from glp_pipeline.greenlake.writes import (
    ADD_MAX_DEVICES,
    PATCH_MAX_IDS,
    TERMINAL_STATUSES,
    AsyncOperationResult,
    DeviceFailure,
    DeviceOperation,
    DeviceOutcome,
    NewDevice,
    OperationKind,
    ServiceManager,
    add_devices_body,
    apply_subscription_body,
    archive_body,
    assign_application_body,
    check_patch_body,
    plan_add_batches,
    plan_batches,
    remove_subscription_body,
    tags_body,
    unassign_application_body,
)

__all__ = [
    "ADD_MAX_DEVICES",
    "DEVICES_PATH",
    "DEVICES_V2_PATH",
    "PATCH_MAX_IDS",
    "SUBSCRIPTIONS_PATH",
    "TERMINAL_STATUSES",
    "AsyncOperationResult",
    "AsyncOperationTimeoutError",
    "ClientConfig",
    "ClientStats",
    "DeviceFailure",
    "DeviceOperation",
    "DeviceOutcome",
    "GreenLakeClient",
    "NewDevice",
    "OperationKind",
    "Page",
    "PageIterator",
    "PagingResult",
    "ServiceManager",
    "WriteOutcomeUnknownError",
    "add_devices_body",
    "apply_subscription_body",
    "archive_body",
    "assign_application_body",
    "check_patch_body",
    "plan_add_batches",
    "plan_batches",
    "remove_subscription_body",
    "tags_body",
    "unassign_application_body",
]

"""The Aruba Central clients of GLP Sync (New Central and Classic), on the GreenLake client's machinery.

    from glp_pipeline.central import central_client
    with central_client(get_settings()) as client:       # the mode of ARUBA_MODE, or inferred
        pages = client.list_aps()
        for page in pages:
            ...                                          # merge page.items on the natural key
        pages.result.ids                                 # the ids of one complete, consistent read

Errors are the shared `glp_pipeline.greenlake.errors` hierarchy plus `glp_pipeline.central.errors`.
"""

from glp_pipeline.central.auth import (
    DatabaseTokenStore,
    MemoryTokenStore,
    RefreshTokenManager,
    StoredTokens,
    TokenStore,
)
from glp_pipeline.central.client import CentralClient, ClassicCentralClient, central_client
from glp_pipeline.central.config import CentralConfig, CentralMode, ClassicCentralConfig
from glp_pipeline.central.errors import (
    CentralNotConfiguredError,
    RefreshTokenRejectedError,
    UnknownQueryParameterError,
)

__all__ = [
    "CentralClient",
    "CentralConfig",
    "CentralMode",
    "CentralNotConfiguredError",
    "ClassicCentralClient",
    "ClassicCentralConfig",
    "DatabaseTokenStore",
    "MemoryTokenStore",
    "RefreshTokenManager",
    "RefreshTokenRejectedError",
    "StoredTokens",
    "TokenStore",
    "UnknownQueryParameterError",
    "central_client",
]

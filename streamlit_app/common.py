"""What every dashboard page shares: the login gate, the database URL, cached queries and error display.

The dashboard is a thin face over `glp_pipeline.queries`: no SQL here. Queries are cached for `CACHE_TTL`
seconds with the database URL and the query config as part of the cache key. Failures (`QueryError`,
`DatabaseError`) are shown as a message that says what to do, never as a stack trace.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from glp_pipeline import exports
from glp_pipeline import queries as q
from glp_pipeline.database import DatabaseError, database_url, reader_database_url
from glp_pipeline.settings import get_settings

CACHE_TTL = 60  # seconds
AUTH_KEY = "glp_authenticated"
LOAD_HINT = "Run `uv run glp demo` (or `uv run glp sync` then `uv run glp transform`) to load data."

T = TypeVar("T")


# --- access control ------------------------------------------------------------------------------------


def dashboard_password() -> str | None:
    """The dashboard password (`GLP_DASHBOARD_PASSWORD`), or None when the dashboard is open."""
    secret = get_settings().glp_dashboard_password
    return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


def oidc_providers() -> list[str | None] | None:
    """The OIDC sign-in choices when Streamlit's secrets configure `st.login` (`[auth]`), else None.

    `st.login` reads its configuration only from Streamlit's secrets (`.streamlit/secrets.toml`, or the files
    in its `secrets.files` option), not from the environment. `[auth]` with `client_id` is one provider
    (`[None]`); named sub-sections (`[auth.microsoft]`, ...) are one choice each.
    """
    if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
        return None
    auth = st.secrets["auth"]
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return named if named and "client_id" not in auth else [None]


def _oidc_signed_in() -> bool:
    return oidc_providers() is None or bool(st.user.is_logged_in)


def _password_entered() -> bool:
    return dashboard_password() is None or bool(st.session_state.get(AUTH_KEY))


def _login_missing() -> bool:
    """A deployment requires a login (GLP_DASHBOARD_REQUIRE_LOGIN) and none is configured."""
    required = get_settings().glp_dashboard_require_login
    return required and oidc_providers() is None and not dashboard_password()


def is_authenticated() -> bool:
    """Every configured gate passed: the OIDC sign-in and the dashboard password (either, both or none; none
    is refused when GLP_DASHBOARD_REQUIRE_LOGIN is set)."""
    return not _login_missing() and _oidc_signed_in() and _password_entered()


def login_page() -> None:
    """The only thing shown before login: the identity provider's sign-in, then the password form."""
    st.title("GLP Sync")
    if _login_missing():
        st.error(
            "This dashboard requires a login and none is configured: set GLP_DASHBOARD_PASSWORD, or an OIDC "
            "provider in .streamlit/secrets.toml (`[auth]`), then restart it."
        )
        return
    if not _oidc_signed_in():
        st.write("Sign in to see the inventory.")
        for provider in oidc_providers() or []:
            label = f"Sign in with {provider}" if provider else "Sign in"
            if st.button(label, key=f"oidc_{provider or 'default'}", type="primary"):
                st.login(provider)  # None: the one provider of `[auth]`
        return
    with st.form("login"):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        password = dashboard_password() or ""
        if hmac.compare_digest(entered.encode(), password.encode()):
            st.session_state[AUTH_KEY] = True
            st.rerun()
        st.error("Wrong password.")


def current_user() -> str:
    """Who is asking: the OIDC login's email, else `dashboard` (the password gate, or an open dashboard,
    knows no one by name: everyone then shares one chat history and one name in the assignment journal)."""
    email = st.user.get("email") if oidc_providers() is not None else None
    return str(email or "dashboard")


def logout_button() -> None:
    """Who is signed in, and a way out (ends the OIDC session and forgets the password)."""
    oidc = oidc_providers() is not None
    if oidc and st.user.get("email"):
        st.sidebar.caption(f"Signed in as {st.user.get('email')}")
    if (oidc or dashboard_password() is not None) and st.sidebar.button("Sign out"):
        st.session_state.pop(AUTH_KEY, None)
        if oidc:
            st.logout()
        st.rerun()


# --- connection and errors -----------------------------------------------------------------------------


def show_error(message: str) -> NoReturn:
    """An error a person can act on, then stop the page."""
    st.error(message)
    st.info(LOAD_HINT)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises; this keeps type checkers honest


def connection(*, for_writes: bool = False) -> tuple[str, q.QueryConfig]:
    """The database URL and query config; never starts a database (the embedded one must be running).

    The URL logs in as the read-only reader role where it can (`reader_database_url`); only the bulk
    assignment page, which keeps its journal, asks `for_writes`.
    """
    if not is_authenticated():  # defence in depth: app.py only routes here after login
        st.stop()
    try:
        settings = get_settings()
        url = (database_url if for_writes else reader_database_url)(settings, start=False)
    except ValidationError as exc:
        show_error(f"The GLP Sync settings are invalid: {exc.errors()[0].get('msg', exc)}.")
    except DatabaseError as exc:
        show_error(f"{exc} Or set `DATABASE_URL` to your PostgreSQL.")
    return url, q.QueryConfig.from_settings(settings)


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a (cached) query; a `QueryError` becomes a message and stops the page."""
    try:
        return fn(*args, **kwargs)
    except q.QueryError as exc:
        show_error(str(exc))
    except DatabaseError as exc:
        show_error(str(exc))


# --- cached queries ------------------------------------------------------------------------------------


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def overview(url: str, config: q.QueryConfig) -> q.Overview:
    return q.overview(url, config)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def chart_series(url: str, config: q.QueryConfig) -> dict[str, list[dict[str, Any]]]:
    """The Overview's chart data, read through the query layer."""
    return {
        "devices": q.devices_by_type_and_region(url, config),
        "expiry": q.expiry_timeline(url, config),
        "inventory": q.inventory_trend(url, config),
        "licences": q.license_trend(url, config),
    }


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def filter_options(url: str, config: q.QueryConfig) -> dict[str, list[str]]:
    return q.filter_options(url, config)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def search_devices(url: str, config: q.QueryConfig, **filters: Any) -> q.Page:
    return q.search_devices(url, config=config, **filters)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def device_detail(url: str, config: q.QueryConfig, device_id: str) -> dict[str, Any] | None:
    return q.device_detail(url, device_id, config)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def search_subscriptions(url: str, config: q.QueryConfig, **filters: Any) -> q.Page:
    return q.search_subscriptions(url, config=config, **filters)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def subscription_devices(url: str, config: q.QueryConfig, subscription_id: str) -> list[dict[str, Any]]:
    return q.subscription_devices(url, subscription_id, config=config)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def sync_status(url: str, config: q.QueryConfig, limit: int) -> list[dict[str, Any]]:
    return q.sync_status(url, limit, config)


# --- display helpers -----------------------------------------------------------------------------------


def frame(rows: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    """Rows as a DataFrame; nested values (tags, lists) as JSON text so that Arrow can show them."""
    df = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    for col in df.columns:
        if df[col].map(lambda v: isinstance(v, dict | list)).any():
            df[col] = df[col].map(lambda v: json.dumps(v, default=str) if isinstance(v, dict | list) else v)
    return df


ALL = "All"


def optional(choice: str) -> str | None:
    """A selectbox's "All" as None (no filter)."""
    return None if choice == ALL else choice


def page_caption(result: q.Page, noun: str) -> None:
    st.caption(f"Page {result.page} of {result.pages} · {result.total:,} {noun}")


# --- exports ---------------------------------------------------------------------------------------------

EXPORT_PAGE_SIZE = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def all_rows(search: Callable[..., q.Page], url: str, config: q.QueryConfig, **filters: Any) -> list[dict]:
    """Every row matching the filters, read page by page through the query layer."""
    filters = {k: v for k, v in filters.items() if k not in ("page", "page_size")}
    rows: list[dict] = []
    page = 1
    while True:
        result = run(search, url, config, page=page, page_size=EXPORT_PAGE_SIZE, **filters)
        rows.extend(result.items)
        if page >= result.pages:
            return rows
        page += 1


def export_section(
    search: Callable[..., q.Page],
    url: str,
    config: q.QueryConfig,
    filters: dict,
    total: int,
    noun: str,
    columns: list[str],
) -> None:
    """An expander that prepares the filtered list as CSV and Excel (formula triggers neutralised)."""
    with st.expander(f"Export the {total} matching {noun}"):
        if st.button("Prepare CSV and Excel files", key=f"export_{noun}"):
            rows = all_rows(search, url, config, **filters)
            stem = f"glp-{noun}"
            st.download_button("Download CSV", exports.to_csv(rows, columns), f"{stem}.csv", "text/csv")
            st.download_button(
                "Download Excel", exports.to_xlsx(rows, columns, noun), f"{stem}.xlsx", XLSX_TYPE
            )
            st.caption(
                f"{len(rows)} {noun}; cells a spreadsheet would run as formulas start with an apostrophe."
            )


def download_rows(rows: list[dict[str, Any]], stem: str, key: str) -> None:
    """CSV and Excel downloads of rows already in memory (formula triggers neutralised)."""
    columns = list(rows[0]) if rows else []
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("CSV", exports.to_csv(rows, columns), f"{stem}.csv", "text/csv", key=f"{key}_csv")
    right.download_button(
        "Excel", exports.to_xlsx(rows, columns, stem[:31]), f"{stem}.xlsx", XLSX_TYPE, key=f"{key}_xlsx"
    )

"""GLP Sync dashboard: `uv run streamlit run streamlit_app/app.py`.

A multipage app (`st.navigation`): Overview, Devices, Subscriptions, Sync, Bulk assignment, Chat (and
Clients and Cross-platform when Aruba Central is configured). When
`GLP_DASHBOARD_PASSWORD` is set, or Streamlit's secrets configure OIDC for `st.login` (an `[auth]` section),
the only page before login is the sign-in.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:  # `streamlit run` puts only streamlit_app/ on the path
    sys.path.insert(0, ROOT)

from glp_pipeline.settings import get_settings  # noqa: E402
from streamlit_app import common  # noqa: E402

st.set_page_config(page_title="GLP Sync", page_icon=":material/dns:", layout="wide")

if common.is_authenticated():
    pages = [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/devices.py", title="Devices", icon=":material/devices:"),
        st.Page("pages/subscriptions.py", title="Subscriptions", icon=":material/license:"),
        st.Page("pages/sync.py", title="Sync", icon=":material/sync:"),
        st.Page("pages/assign.py", title="Bulk assignment", icon=":material/upload_file:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:"),
    ]
    if get_settings().has_aruba:  # without Aruba Central configured, nothing Aruba appears
        pages[3:3] = [
            st.Page("pages/clients.py", title="Clients", icon=":material/wifi:"),
            st.Page("pages/cross_platform.py", title="Cross-platform", icon=":material/compare_arrows:"),
        ]
    navigation = st.navigation(pages)
    common.logout_button()
else:
    navigation = st.navigation([st.Page(common.login_page, title="Sign in")], position="hidden")
navigation.run()

# syntax=docker/dockerfile:1
# GLP Sync: one image for every service of docker-compose.yml and deploy/kubernetes (Dagster webserver,
# daemon and user code, the dashboard, the MCP server, the dbt docs). No secret is baked in: every setting
# comes from the environment at run time.

# An exact Python patch release on an exact Debian release (not `python:3.11-slim`, which moves): a rebuild
# gives the same interpreter and C libraries the lock file was tested with. Python 3.11 is what the project
# targets (requires-python >= 3.11, ruff's target-version). Update the tag deliberately, in its own commit.
FROM python:3.11.14-slim-bookworm

# uv, pinned to the version uv.lock was written with, copied from its official image.
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /usr/local/bin/uv

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    GLP_HOME=/var/lib/glp \
    DAGSTER_HOME=/var/lib/glp/dagster \
    DO_NOT_TRACK=1 \
    DAGSTER_DISABLE_TELEMETRY=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

# A system user without a login shell; it owns only GLP_HOME (the code in /app stays root-owned, read-only
# to the services).
RUN groupadd --system --gid 10001 glp \
    && useradd --system --uid 10001 --gid glp --home-dir /home/glp --create-home --shell /usr/sbin/nologin glp \
    && mkdir -p /var/lib/glp/dagster \
    && chown -R glp:glp /var/lib/glp

WORKDIR /app

# Dependencies first (a layer that changes only with uv.lock), exactly as locked, without the dev group; with
# the k8s extra (dagster-k8s), which the run pods of Dagster's K8sRunLauncher need (deploy/kubernetes).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --extra k8s --no-install-project

# The project itself (installed editable: the code finds dbt_project/ and workspace.yaml beside it).
COPY glp_pipeline ./glp_pipeline
COPY mcp_server ./mcp_server
COPY streamlit_app ./streamlit_app
COPY dbt_project ./dbt_project
COPY workspace.yaml ./
COPY deploy/docker ./deploy/docker
RUN uv sync --locked --no-dev --extra k8s \
    && python -m compileall -q glp_pipeline mcp_server streamlit_app deploy/docker
# (the services cannot write bytecode into the root-owned /app; every Dagster subprocess imports this code)

USER glp

# The dbt manifest, parsed now (dbt parse connects to nothing) so the Dagster code location loads without
# parsing. It is parsed with a DATABASE_URL as the deployment has one (no password: parse never connects),
# which gives the same dbt vars as at run time; the entrypoint drops it when the run-time vars differ
# (Aruba Central configured), and the code location then parses again.
RUN DATABASE_URL=postgresql://glp@postgres:5432/glp python deploy/docker/parse_dbt.py

EXPOSE 8501 3000 8010 8580
ENTRYPOINT ["python", "/app/deploy/docker/entrypoint.py"]
# The default service is the dashboard; docker-compose.yml and the Kubernetes manifests set the others.
CMD ["streamlit", "run", "streamlit_app/app.py", "--server.headless", "true", "--server.address", "0.0.0.0", \
     "--server.port", "8501", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py", "http://127.0.0.1:8501/_stcore/health"]

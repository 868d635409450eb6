# The Scout code location's image, for Kubernetes (scout_assets/deploy/kubernetes/README.md):
# the gRPC server the Helm chart runs, and each run's pod (the K8sRunLauncher starts it with
# its own arguments). Every Python package comes from uv.lock, the DuckDB extensions included
# (wheels on PyPI): nothing is downloaded when a pod starts.
#   docker build -t scoutregistry.azurecr.io/scout-pipelines:$(git rev-parse --short HEAD) .
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra kubernetes --no-install-project
COPY scout_assets ./scout_assets
RUN uv sync --frozen --no-dev --extra kubernetes --no-editable

FROM python:3.11-slim
# unixODBC and psqlODBC: publishing to Azure SQL / PostgreSQL (docs/PUBLISHING.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends unixodbc odbc-postgresql \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home scout \
    && mkdir -p /opt/dagster/dagster_home \
    && chown scout /opt/dagster/dagster_home
COPY --from=build /app/.venv /app/.venv
LABEL org.opencontainers.image.title="scout-pipelines"
# DAGSTER_HOME: where the chart and the run launcher mount the instance's dagster.yaml.
ENV PATH="/app/.venv/bin:$PATH" DAGSTER_HOME=/opt/dagster/dagster_home PYTHONUNBUFFERED=1
WORKDIR /home/scout
USER 10001
EXPOSE 4000
# CMD, not ENTRYPOINT: the chart and the run launcher replace it with their own commands.
CMD ["dagster", "api", "grpc", "-m", "scout_assets.definitions", "-h", "0.0.0.0", "-p", "4000"]

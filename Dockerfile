# Wegbegleiter as a service: `docker build -t wegbegleiter .`, then see compose.yaml and README, "Operations".
# The base image is pinned to a patch release; dependencies come from requirements.lock (exact versions, the
# ones CI tested) in a layer of their own, so a change in the code does not reinstall them.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEGBEGLEITER_DATA_DIR=/data \
    HTTP_LISTEN=0.0.0.0:8080 \
    LOG_FORMAT=json

WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir --requirement requirements.lock

COPY pyproject.toml setup.py babel.cfg README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY locales ./locales
# --no-deps: everything it needs is installed above, at the locked versions. Building compiles the catalogs.
RUN pip install --no-cache-dir --no-deps . \
 && useradd --system --create-home --uid 10001 wegbegleiter \
 && mkdir -p /data \
 && chown 10001 /data

USER 10001
VOLUME /data
# The web endpoint: staff console, signed links from emails, /healthz, /readyz, /metrics.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ['HTTP_LISTEN'].rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["wegbegleiter"]
CMD ["run"]

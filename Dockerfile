FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WEGBEGLEITER_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-cache-dir '.[postgres]' \
 && python -c "from bot import i18n_tool; i18n_tool.compile_catalogs()" \
 && useradd --system --create-home --uid 10001 wegbegleiter \
 && mkdir -p /data && chown wegbegleiter /data
USER wegbegleiter
VOLUME /data
ENTRYPOINT ["wegbegleiter"]
CMD ["run"]

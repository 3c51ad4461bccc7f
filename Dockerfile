# SafeSphere's image: a slim Python 3.11 runtime, the package and its migrations, run as a non-root user.
# Build: docker build -t safesphere .   Run several instances with compose.yaml (docs/DEPLOY.md).

FROM python:3.11-slim AS build
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY pyproject.toml README.md alembic.ini constraints.txt ./
COPY src ./src
COPY migrations ./migrations
# Installed in place: the server finds its migrations beside the package (core/migrate.py).
RUN /opt/venv/bin/pip install -c constraints.txt -e .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/safesphere safesphere
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY scripts/entrypoint.sh /usr/local/bin/safesphere-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SAFESPHERE_DATA_DIR=/var/lib/safesphere \
    SAFESPHERE_LISTEN_HOST=0.0.0.0 \
    SAFESPHERE_LISTEN_PORT=8000
USER safesphere
WORKDIR /var/lib/safesphere
VOLUME ["/var/lib/safesphere"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["safesphere-entrypoint", "healthcheck"]
ENTRYPOINT ["safesphere-entrypoint"]
CMD ["serve"]

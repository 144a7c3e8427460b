# Tisserand in a container: the wheel built from this tree, on a slim Python, as a non-root user.
#   docker build -t tisserand .
#   docker run --env-file tisserand.env -v tisserand-data:/var/lib/tisserand tisserand
# With PostgreSQL: compose.yaml. See docs/deployment.md.

ARG PYTHON=3.12

FROM python:${PYTHON}-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:${PYTHON}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LANG=C.UTF-8 \
    TISSERAND_CONFIG=/etc/tisserand/tisserand.toml \
    TISSERAND_DATA_DIR=/var/lib/tisserand \
    TISSERAND_LOG_FORMAT=json
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels tisserand \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/tisserand --shell /usr/sbin/nologin tisserand \
    && install -d -o tisserand -g tisserand -m 0700 /var/lib/tisserand
COPY deploy/container.toml /etc/tisserand/tisserand.toml
USER tisserand
WORKDIR /var/lib/tisserand
VOLUME ["/var/lib/tisserand"]
EXPOSE 8080
# /healthz answers 200 for an active instance whose scheduler runs, and for a standby.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tisserand"]
CMD ["run"]

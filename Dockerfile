# Parley's production image: uvicorn serving parley.asgi as a user without privileges.
#   docker build -t parley .
#   docker run --rm --env-file .env parley migrate    # once per release, before the servers
#   docker run --env-file .env -p 127.0.0.1:8000:8000 parley
# What each command does and how to run it behind nginx: docs/deployment.md, "Docker".

# --- build: the locked dependencies in a virtualenv, static files collected ---------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every package with its hash, nothing resolved here: the image has what the lock says.
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock
WORKDIR /app
COPY manage.py ./
COPY parley ./parley
# Settings refuse DEBUG off without a long SECRET_KEY; collectstatic needs no real one.
# The bytecode is compiled here: at run time the code is read-only to the server.
RUN DEBUG=false SECRET_KEY=collectstatic-at-build-time-needs-no-real-secret-key \
    /opt/venv/bin/python manage.py collectstatic --noinput -v0 \
    && /opt/venv/bin/python -m compileall -q parley

# --- run ------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false \
    MEDIA_ROOT=/var/lib/parley/media \
    EXPORTS_ROOT=/var/lib/parley/exports
RUN groupadd --system --gid 10001 parley \
    && useradd --system --uid 10001 --gid parley --home-dir /app --no-create-home parley \
    && mkdir -p /var/lib/parley/media /var/lib/parley/exports \
    && chown parley:parley /var/lib/parley/media /var/lib/parley/exports
COPY --from=build /opt/venv /opt/venv
# The code and the collected static files stay root's: the server only reads them.
COPY --from=build /app /app
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/parley
WORKDIR /app
# numeric, so that an orchestrator can tell it is not root (runAsNonRoot)
USER 10001:10001
VOLUME ["/var/lib/parley/media", "/var/lib/parley/exports"]
EXPOSE 8000
ENTRYPOINT ["parley"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# Build stage: wheels for Loopbot and its dependencies, built once, copied into the runtime image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md loopbot.py wiring.py ./
COPY bot ./bot
COPY config ./config
COPY handlers ./handlers
COPY jobs ./jobs
COPY storage ./storage
COPY sandbox ./sandbox
COPY slack_emulator ./slack_emulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compilers, no sources, a non-root user.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOOPBOT_CONFIG=/etc/loopbot/loopbot.yaml \
    DATABASE_URL=sqlite:////var/lib/loopbot/loopbot.db \
    LOOPBOT_PORT=3000
RUN useradd --system --uid 10001 --home-dir /var/lib/loopbot loopbot \
 && mkdir -p /etc/loopbot /var/lib/loopbot \
 && chown loopbot /var/lib/loopbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The shipped example, so the image starts before you mount your own config over it.
COPY config/loopbot.example.yaml /etc/loopbot/loopbot.yaml
USER loopbot
WORKDIR /var/lib/loopbot
VOLUME ["/etc/loopbot", "/var/lib/loopbot"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('LOOPBOT_PORT', '3000')}/healthz\", timeout=4); sys.exit(0)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["loopbot"]
CMD ["run"]

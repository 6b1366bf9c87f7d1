# The Dockerfile equivalent of examples/python.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION} AS index
WORKDIR /src
COPY packages /src
RUN for p in */; do (cd "$p" && python -c 'from setuptools import setup; setup()' -q sdist -d /index); done

FROM python:${PYTHON_VERSION} AS deps
ARG PYTHON_VERSION
WORKDIR /app
COPY requirements.txt /app/
RUN --mount=type=cache,id=pip-${PYTHON_VERSION},target=/root/.cache/pip \
    --mount=type=bind,from=index,source=/index,target=/index \
    pip install --root-user-action=ignore --no-index --find-links /index --no-build-isolation -r requirements.txt

FROM deps AS image
COPY app.py /app/
CMD ["python", "app.py"]

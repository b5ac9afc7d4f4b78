# PostgreSQL 15 with pgvector. Build from the repository root:
#   docker build -f docker/db.Dockerfile -t similarity-db .
# pgvector comes from the PostgreSQL project's own apt repository, which the official postgres image has configured:
# it keeps the versions it published (Debian's pool drops superseded source packages, which broke this build).
# The service needs pgvector 0.7 or later (halfvec, iterative index scans); the build fails below that.
ARG POSTGRES_IMAGE=postgres:15-bookworm
FROM ${POSTGRES_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15-pgvector \
 && rm -rf /var/lib/apt/lists/* \
 && version=$(dpkg-query -W -f='${Version}' postgresql-15-pgvector) \
 && dpkg --compare-versions "$version" ge 0.7 \
 || { echo "pgvector ${version:-not installed}: the service needs 0.7 or later" >&2; exit 1; }

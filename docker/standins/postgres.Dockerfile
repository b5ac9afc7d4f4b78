# Stand-in for postgres:15-bookworm (see README.md). Context: a folder holding apt/ (a local repository with
# postgresql-15-pgvector) and postgres-entrypoint.sh.
ARG BASE_IMAGE=similarity-standin/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*
COPY apt/ /opt/similarity-apt/
RUN echo "deb [trusted=yes] file:/opt/similarity-apt ./" >/etc/apt/sources.list.d/similarity-pgvector.list
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]

# PostgreSQL 15 with pgvector 0.8.6 built from Debian's source package, exactly as ./similarity.sh does it.
FROM postgres:15-bookworm
COPY similarity.sh /opt/similarity/similarity.sh
RUN /opt/similarity/similarity.sh pgvector \
 && apt-get purge -y --auto-remove postgresql-server-dev-15 build-essential dpkg-dev \
 && rm -rf /var/lib/apt/lists/*

# Stand-in for mcr.microsoft.com/dotnet/sdk:10.0 (see README.md). Context: a folder holding the machine's dotnet/.
ARG BASE_IMAGE=similarity-standin/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libicu72 libssl3 && rm -rf /var/lib/apt/lists/*
COPY dotnet/ /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
# NuGet's certificate revocation lookups cannot reach their servers from these machines (as on the host).
ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_RUNNING_IN_CONTAINER=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    NUGET_CERT_REVOCATION_MODE=offline

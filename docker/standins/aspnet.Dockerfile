# Stand-in for mcr.microsoft.com/dotnet/aspnet:10.0 (see README.md). Context: a folder holding the machine's dotnet/
# runtime parts (the dotnet host, host/ and shared/).
ARG BASE_IMAGE=similarity-standin/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libicu72 libssl3 && rm -rf /var/lib/apt/lists/*
COPY dotnet/ /usr/share/dotnet/
ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_ROOT=/usr/share/dotnet DOTNET_RUNNING_IN_CONTAINER=true
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && groupadd --gid "$APP_UID" app && useradd --uid "$APP_UID" --gid app --shell /bin/false --no-create-home app

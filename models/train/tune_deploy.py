"""A tuned bundle through the service's model lifecycle, over HTTP as `models deploy` does (ModelDeploy.cs): the
folder zipped at its root and sent as PUT /models/{name} (application/zip), then POST /models/{name}/embed, GET
/models until the set is ready, GET /models/{name}/diff; POST /models/{name}/activate only when asked."""
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

POLL_SECONDS = 1.0


class DeployError(Exception):
    pass


def request(url, key, method, path, body=None, content_type=None):
    headers = {"X-Api-Key": key}
    if content_type:
        headers["Content-Type"] = content_type
    call = urllib.request.Request(url.rstrip("/") + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call) as answer:
            text = answer.read().decode()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        raise DeployError(f"{method} {path} answered {error.code}: {error.read().decode()}") from None
    except urllib.error.URLError as error:
        raise DeployError(f"cannot reach the service at {url}: {error.reason}") from None


def zipped(directory):
    handle, path = tempfile.mkstemp(suffix=".zip", prefix="similarity-tune-")
    os.close(handle)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(os.listdir(directory)):
            if os.path.isfile(os.path.join(directory, file)):
                archive.write(os.path.join(directory, file), file)
    return path


def set_named(url, key, name):
    _, listing = request(url, key, "GET", "/models")
    return next((m for m in listing["models"] if m["name"] == name), None)


def deploy(url, key, directory, name, activate, wait_seconds, log=print):
    """Returns what each step answered, for the training report."""
    quoted = urllib.parse.quote(name, safe="")
    archive = zipped(directory)
    try:
        with open(archive, "rb") as f:
            _, deployed = request(url, key, "PUT", f"/models/{quoted}", f.read(), "application/zip")
    finally:
        os.remove(archive)
    log(f"deployed '{name}' (fingerprint {deployed['fingerprint']}) as the candidate; embedding the catalog with it")
    request(url, key, "POST", f"/models/{quoted}/embed")
    deadline = time.monotonic() + wait_seconds
    while (entry := set_named(url, key, name))["status"] != "ready":
        if time.monotonic() > deadline:
            raise DeployError(f"'{name}' was not ready after {wait_seconds} s (status {entry['status']}, {entry.get('embedding')})")
        time.sleep(POLL_SECONDS)
    _, diff = request(url, key, "GET", f"/models/{quoted}/diff?sample=100")
    summary = {k: diff[k] for k in ("live", "candidate", "k", "sample", "meanOverlap", "meanRankCorrelation", "top1ChangedShare") if k in diff}
    result = {"name": name, "fingerprint": deployed["fingerprint"], "diff": summary, "activated": False}
    if activate:
        request(url, key, "POST", f"/models/{quoted}/activate")
        result["activated"] = True
    else:
        result["activate"] = f"curl -X POST -H 'X-Api-Key: …' {url.rstrip('/')}/models/{quoted}/activate"
    return result

"""The local broker's management HTTP API, as guest: what the tests and benchmarks use to
create and delete the virtual hosts they isolate themselves in."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

API = "http://127.0.0.1:15672/api"
AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()


def api(method: str, path: str, body: object = None) -> object:
    """Call the management HTTP API as guest; return the decoded JSON, or None."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{API}{path}", data=data, method=method)
    request.add_header("Authorization", AUTH)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def quoted(name: str) -> str:
    """A name made safe for a URL path segment (a vhost may contain '/')."""
    return urllib.parse.quote(name, safe="")


def create_vhost(name: str) -> None:
    """Create a virtual host and give guest every permission on it."""
    api("PUT", f"/vhosts/{quoted(name)}")
    everything = {"configure": ".*", "write": ".*", "read": ".*"}
    api("PUT", f"/permissions/{quoted(name)}/guest", everything)


def delete_vhost(name: str) -> None:
    """Delete a virtual host and every queue in it; a vhost already gone is fine."""
    try:
        api("DELETE", f"/vhosts/{quoted(name)}")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise

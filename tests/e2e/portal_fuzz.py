"""A fuzzer for the portal's forms and routes: the services are fuzzed from their OpenAPI (schemathesis); the
portal has no OpenAPI (it serves HTML forms), so its requests are generated from what it says it takes.

For every route of the portal's routers: the form and query fields its handler declares (FastAPI's own
record of the signature) and reads by name (`form.get("remarks")` in its source), and every form and link the
portal renders for a caller (crawled, so that a field named per document, a hidden value or an application
number on the queue is in the vocabulary). Each request fills a random subset of those names with values
drawn from what the pages offered and from the wild (long, empty, control characters, other scripts, numbers
that are not numbers), with the portal's own origin so that a post reaches its handler; redirects are followed,
so the page a refused form goes back to renders the carried answers too. What counts is every status on the
way: a 5xx anywhere is a failure.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Names a handler reads from its form or query by hand, in its source
# Characters of an address (path or query) sent: a browser's practical limit is a few thousand
ADDRESS = 4000
READ_BY_NAME = re.compile(r"""(?:form|query_params|params)\s*(?:\.get(?:list)?\(|\[)\s*["']([A-Za-z_][\w-]*)["']""")

WILD = st.one_of(
    st.text(max_size=40),  # any Unicode: controls, other scripts, combining marks
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "null",
            "yes",
            "en",
            "hi",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "2026-02-30",
            "9999-12-31",
            "1e309",
            "%00",
            "\x00",
            "\ud7ff",
            "SS-2025-26-0000001",
            "DDO-HEALTH-HISAR",
        ]
    ),
    st.just("9" * 70_000),  # over 65,536: an address built from it once broke httpx (InvalidURL, a 500)
    st.just("अ" * 20_000),
    st.integers().map(str),
)


@dataclass
class Target:
    """One method and route of the portal, and what is known of its inputs."""

    method: str
    path: str
    pattern: re.Pattern[str]
    path_params: list[str]
    names: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    concrete: set[str] = field(default_factory=set)  # paths the pages link or post to

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def targets(routes: Iterable[Any]) -> list[Target]:
    """A target per method of each route, with the names its signature declares and its source reads."""
    found: list[Target] = []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        dependant = route.dependant
        names = {p.alias for p in dependant.query_params} | {p.alias for p in dependant.body_params}
        files = {p.alias for p in dependant.body_params if "UploadFile" in str(p.field_info.annotation)}
        try:
            names |= set(READ_BY_NAME.findall(inspect.getsource(route.endpoint)))
        except (OSError, TypeError):
            pass
        for method in sorted(route.methods or ()):
            found.append(
                Target(
                    method=method,
                    path=route.path,
                    pattern=route.path_regex,
                    path_params=[p.alias for p in dependant.path_params],
                    names=names - files | {"lang"},
                    files=files,
                )
            )
    return found


class _Forms(HTMLParser):
    """Forms (their action, method and fields with the values offered) and links on one page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, set[str]]]] = []
        self.links: list[str] = []
        self._form: tuple[str, str, dict[str, set[str]]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = (a.get("action", ""), a.get("method", "get").upper(), defaultdict(set))
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button") and a.get("name"):
            self._form[2][a["name"]].add(a.get("value", ""))
            self._select = a["name"] if tag == "select" else self._select
        elif self._form is not None and tag == "option" and self._select:
            self._form[2][self._select].add(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _target_of(all_targets: list[Target], method: str, path: str) -> Target | None:
    for t in all_targets:
        if t.method == method and t.pattern.match(path):
            return t
    return None


def crawl(client: httpx.Client, all_targets: list[Target], pages: int = 60) -> list[str]:
    """Visit what the caller can reach from the routes that need no path parameter, following the portal's own
    links, and teach each target the fields and values its forms offer. Returns any 5xx met on the way."""
    failures: list[str] = []
    queue = [t.path for t in all_targets if t.method == "GET" and not t.path_params]
    visited: set[str] = set()
    while queue and len(visited) < pages:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in visited or path.startswith(("/static", "/officer/login", "/officer/callback")):
            continue
        visited.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"crawl GET {url}: {response.status_code}")
        if "html" not in response.headers.get("content-type", ""):
            continue
        parsed = _Forms()
        parsed.feed(response.text)
        for link in parsed.links:
            link_path = urlsplit(link).path
            target = _target_of(all_targets, "GET", link_path)
            if target is not None:
                target.concrete.add(link_path)
                for k, v in parse_qsl(urlsplit(link).query, keep_blank_values=True):
                    target.names.add(k)
                    target.seen[k].add(v)
                if link not in visited and len(queue) < 200:
                    queue.append(link)
        for action, method, fields in parsed.forms:
            action_path = urlsplit(action or url).path
            target = _target_of(all_targets, method, action_path)
            if target is None:
                continue
            target.concrete.add(action_path)
            for name, values in fields.items():
                if name in target.files:
                    continue
                target.names.add(name)
                target.seen[name] |= values
    return failures


def _value(target: Target, name: str) -> st.SearchStrategy[str]:
    offered = sorted(target.seen.get(name, set()))
    return st.one_of(st.sampled_from(offered), WILD) if offered else WILD


def requests_for(target: Target) -> st.SearchStrategy[dict[str, Any]]:
    """A request to the target: a path (one the pages used, or the template filled with anything), and a random
    subset of its fields, each with one value or several."""
    concrete = sorted(target.concrete)
    filled = st.fixed_dictionaries({p: WILD for p in target.path_params}).map(
        lambda values: re.sub(
            r"\{(\w+)(?::\w+)?\}", lambda m: quote(values[m.group(1)] or "x", safe="") or "x", target.path
        )
    )
    path = st.one_of(st.sampled_from(concrete), filled) if concrete and target.path_params else filled
    if not target.path_params:
        path = st.just(target.path)
    fields = st.fixed_dictionaries(
        {},
        optional={
            n: st.one_of(_value(target, n), st.lists(_value(target, n), min_size=2, max_size=3))
            for n in sorted(target.names)
        },
    )
    files = st.fixed_dictionaries(
        {},
        optional={
            n: st.tuples(
                st.sampled_from(["a.pdf", "", "photo.jpg", "x" * 300 + ".pdf", "../../a.png", "प्रमाण.pdf"]),
                st.one_of(st.binary(max_size=64), st.just(b"%PDF-1.4\n%%EOF\n"), st.just(b"\xff\xd8\xff" + b"0" * 100)),
                st.sampled_from(["application/pdf", "image/jpeg", "text/html", "application/octet-stream"]),
            )
            for n in sorted(target.files)
        },
    )
    return st.fixed_dictionaries({"path": path, "fields": fields, "files": files})


def send(client: httpx.Client, target: Target, request: dict[str, Any], origin: str) -> list[int]:
    """The request, with every status met on its way (redirects followed within the portal)."""
    fields: dict[str, Any] = request["fields"]
    if target.method in ("GET", "HEAD"):
        # an address holds a few thousand characters in a browser: the whole of it, encoded, is kept under ADDRESS,
        # dropping the longest fields. A longer one is refused by the server's HTTP parser before the portal sees it
        # (uvicorn's h11 takes a request line and headers of at most 16 KiB): its 400 and hang-up race the request
        # still being sent, so the client may read a reset instead (a ReadError, taken here for a failure).
        short = dict(fields)  # a value longer than ADDRESS alone is dropped whole by the loop
        path = request["path"][:ADDRESS]
        while short and len(path) + len(urlencode(short, doseq=True)) >= ADDRESS:
            short.pop(max(short, key=lambda name: len(urlencode({name: short[name]}, doseq=True))))
        response = client.request(target.method, path, params=short)
    elif request["files"]:
        response = client.request(
            target.method, request["path"][:ADDRESS], data=fields, files=request["files"], headers={"Origin": origin}
        )
    else:
        response = client.request(target.method, request["path"][:ADDRESS], data=fields, headers={"Origin": origin})
    return [r.status_code for r in response.history] + [response.status_code]


def fuzz(
    client_for: Callable[[], httpx.Client], target: Target, examples: int, origin: str, derandomize: bool = True
) -> tuple[int, list[str]]:
    """Send `examples` generated requests to the target, each from a fresh client holding the caller's cookies
    (a request that signs out, or a carried answer, does not change what the next one is); the number sent and
    what answered 5xx."""
    failures: list[str] = []
    sent = 0

    @given(request=requests_for(target))
    @settings(
        derandomize=derandomize,
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(request: dict[str, Any]) -> None:
        nonlocal sent
        sent += 1
        with client_for() as client:
            try:
                statuses = send(client, target, request, origin)
            except httpx.HTTPError as exc:  # the portal hung up or timed out: as bad as a 5xx
                failures.append(f"{target.label} {request['path'][:80]}: {type(exc).__name__}")
                return
        if any(s >= 500 for s in statuses):
            shown = {k: (str(v)[:40] + f"... ({len(str(v))} chars)") for k, v in request["fields"].items()}
            failures.append(f"{target.label} {request['path'][:80]} {shown}: {statuses}")

    one()
    return sent, failures

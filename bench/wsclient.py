"""A learner without a browser: a client of Streamlit's own websocket protocol (streamlit.proto).

What a browser tab does, minus drawing: GET the page (through nginx this sets the routing cookie),
open /_stcore/stream, send a BackMsg `rerun_script` with the page's name, and read ForwardMsgs until
`script_finished`. Moving a slider is another `rerun_script` carrying that widget's new value (and
the fragment it lives in, as the browser sends it). Used by bench/load.py (many learners) and by the
hostile-input checks (forged values no browser would send).

    async with Learner("http://127.0.0.1:8501") as me:
        run = await me.open("convolution")          # a Run: seconds, widgets, errors, exceptions
        run = await me.move(me.sliders()[0], 3)
"""
from __future__ import annotations

import asyncio
import math
import random
import time
import http.client
import urllib.parse
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclass
class Widget:
    id: str
    kind: str                   # the element type: "slider", "number_input", "text_input", ...
    proto: object               # the element's proto (bounds, options, default)
    fragment_id: str = ""       # the fragment the widget lives in ("" = the whole page)

    @property
    def key(self) -> str:
        """The page's key (`conv.stride`) for keyed widgets: Streamlit puts it at the end of the id."""
        return self.id.rsplit("-", 1)[-1] if self.id.startswith("$$ID") else self.id


@dataclass
class Run:
    """What one script run sent back."""
    seconds: float = 0.0
    status: str = ""            # "ok", "fragment", "rerun" (cut short by a newer one), "timeout", ...
    exceptions: list[str] = field(default_factory=list)   # st.exception elements (tracebacks)
    errors: list[str] = field(default_factory=list)       # st.error bodies (the page's messages)
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    bytes: int = 0              # bytes received
    largest: int = 0            # the largest single frame


class Learner:
    def __init__(self, base_url: str, *, timeout: float = 120.0, query: str = ""):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.query = query
        self.cookies: dict[str, str] = {}          # bml_route (nginx's routing cookie), _streamlit_xsrf
        self.session_id = ""
        self.ws = None
        self.page = ""
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}
        self.values: dict[str, WidgetState] = {}    # widget states sent so far (a browser sends them all)
        self._seen: set[str] = set()                # widgets drawn by the run being read

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    # -- connecting ---------------------------------------------------------------------------
    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, path: str, *, method: str = "GET", data: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        """An HTTP request with this tab's cookies; returns (status, body) even for 4xx/5xx.

        A server may answer a too-large upload with 413 and close before the body is sent: the
        status is still read when it arrived, else 0 ("connection reset")."""
        url = urllib.parse.urlsplit(self.base + path)
        hdrs = {**({"Cookie": self.cookie} if self.cookies else {}), **(headers or {})}
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        try:
            try:
                conn.request(method, url.path + (f"?{url.query}" if url.query else ""), body=data, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass                                  # the server answered before reading it all
            try:
                r = conn.getresponse()
            except (ConnectionResetError, http.client.RemoteDisconnected):
                return 0, b"connection reset"
            status, body, got = r.status, r.read(), r.headers.get_all("Set-Cookie") or []
        finally:
            conn.close()
        for header in got:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return status, body

    def _load(self, page: str) -> None:
        """The HTML, then the health check the frontend makes before its websocket (sets the XSRF cookie)."""
        self.request(f"/{page}")
        self.request("/_stcore/health")

    async def open(self, page: str) -> Run:
        """Load a page as a new tab does: the HTML, the websocket, the first script run."""
        t0 = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, self._load, page)
        ws_url = "ws" + self.base[4:] + "/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.ws = await websockets.connect(ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                           max_size=None, open_timeout=self.timeout, ping_interval=None)
        self.page = page
        run = await self._rerun(ClientState(query_string=self.query, page_name=page))
        run.seconds = time.perf_counter() - t0
        return run

    # -- interacting --------------------------------------------------------------------------
    def sliders(self) -> list[Widget]:
        return [w for w in self.widgets.values() if w.kind == "slider" and not w.proto.disabled]

    async def move(self, widget: Widget, value: float) -> Run:
        """Set a slider (or a select_slider, by option index) to `value`, as a drag that ends there."""
        if widget.proto.options:                # select_slider: the browser sends the option's label
            state = WidgetState(id=widget.id, string_array_value={"data": [widget.proto.options[int(value)]]})
        else:
            state = WidgetState(id=widget.id, double_array_value={"data": [value]})
        return await self.send(widget, state)

    async def send(self, widget: Widget | None, state: WidgetState, fragment_id: str | None = None) -> Run:
        """Send any widget state (forged or not) and wait for the run it starts."""
        self.values[state.id] = state
        frag = widget.fragment_id if fragment_id is None and widget is not None else (fragment_id or "")
        client = ClientState(query_string=self.query, page_name=self.page, page_script_hash=self.page_hash,
                             widget_states=WidgetStates(widgets=list(self.values.values())), fragment_id=frag)
        return await self._rerun(client)

    async def rerun(self) -> Run:
        """A plain rerun of the page with the current values (the browser's "R")."""
        client = ClientState(query_string=self.query, page_name=self.page, page_script_hash=self.page_hash,
                             widget_states=WidgetStates(widgets=list(self.values.values())))
        return await self._rerun(client)

    async def send_raw(self, data: bytes) -> None:
        await self.ws.send(data)

    async def _rerun(self, client: ClientState) -> Run:
        await self.ws.send(BackMsg(rerun_script=client).SerializeToString())
        return await self.read_run(client.fragment_id)

    async def read_run(self, fragment_id: str = "") -> Run:
        """Read ForwardMsgs until the run ends; then forget widgets the run no longer drew."""
        run, t0 = Run(), time.perf_counter()
        self._seen: set[str] = set()
        deadline = t0 + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                run.status = "timeout"
                break
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                run.status = "timeout"
                break
            except websockets.ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd else (e.sent.code if e.sent else "")
                run.status = f"closed {code}".strip()
                break
            run.bytes += len(data)
            run.largest = max(run.largest, len(data))
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":              # st.navigation: the page actually shown
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "page_not_found":
                run.warnings.append(f"page not found: {msg.page_not_found.page_name}")
            elif kind == "delta":
                self._delta(msg.delta, run)
            elif kind == "script_finished":
                if msg.script_finished in DONE:
                    full = msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY
                    run.status = "ok" if full else "fragment"
                    self.widgets = {i: w for i, w in self.widgets.items()     # a browser drops them too
                                    if i in self._seen or (not full and w.fragment_id != fragment_id)}
                    break
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue                    # our newer message restarted it: keep reading
                run.status = f"finished {msg.script_finished}"
                break
        run.seconds = time.perf_counter() - t0
        return run

    def _delta(self, delta, run: Run) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            run.exceptions.append(f"{el.exception.type}: {el.exception.message}")
        elif kind == "toast":
            run.warnings.append(el.toast.body)
        elif kind == "alert":
            fmt = el.alert.format               # 1 error, 2 warning, 3 info, 4 success
            (run.errors if fmt == 1 else run.warnings if fmt == 2 else run.infos).append(el.alert.body)
        else:
            proto = getattr(el, kind, None)
            wid = getattr(proto, "id", "") if proto is not None else ""
            if wid and hasattr(proto, "label"):
                self.widgets[wid] = Widget(wid, kind, proto, delta.fragment_id)
                self._seen.add(wid)


def random_value(rng: random.Random, widget: Widget) -> float:
    """A value a learner could pick: a step of the slider's range (an index for select_slider)."""
    p = widget.proto
    n = int(math.floor((p.max - p.min) / p.step + 1e-9)) if p.step > 0 else 0
    current = list(p.value or p.default)
    for _ in range(5):
        v = p.min + rng.randint(0, max(n, 0)) * p.step
        if not current or abs(v - current[0]) > 1e-12:
            break
    return round(v, 10)


def upload_state(me: Learner, widget: Widget, name: str, data: bytes, mime: str = "image/png") -> tuple[int, WidgetState]:
    """PUT a file as the browser's uploader does (with the XSRF cookie), and the widget state naming it."""
    import uuid
    from streamlit.proto.Common_pb2 import FileURLs, FileUploaderState, UploadedFileInfo
    file_id = uuid.uuid4().hex
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    url = f"/_stcore/upload_file/{me.session_id}/{file_id}"
    status, _ = me.request(url, method="PUT", data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "X-Xsrftoken": me.cookies.get("_streamlit_xsrf", "")})
    info = UploadedFileInfo(file_id=file_id, name=name, size=len(data),
                            file_urls=FileURLs(file_id=file_id, upload_url=url, delete_url=url))
    return status, WidgetState(id=widget.id, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info]))

"""The HTTP side of the simulator: routes, the generation endpoint, SSE frames and the files."""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
import time
import uuid
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import rules
from .audio import SAMPLE_RATE_HZ, render_speech
from .records import Fault, RecordedRequest, UpstreamProfile
from .tables import (
    ERRORS,
    GENERATION_PATH,
    MIDSTREAM_REJECTION,
    REGION_PREFIXES,
    URL_LIFETIME_S,
    Model,
)
from .voices import CUSTOMIZATION_PATH, FAMILY_OF_SERVICE, VOICE_ERRORS

if TYPE_CHECKING:
    from .server import DashScopeSimulator


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections when many visitors start at once

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hangs up between requests is normal; handler errors are kept


class ClientGone(Exception):
    """The client closed the connection; nothing to report."""


class Handler(BaseHTTPRequestHandler):
    simulator: DashScopeSimulator
    protocol_version = "HTTP/1.1"
    server_version = "DashScopeSimulator/1.0"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet; the request log is in simulator.requests

    # --- routing --------------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._guarded(self._route_post)

    def do_GET(self) -> None:  # noqa: N802
        self._guarded(self._route_get)

    def _guarded(self, route) -> None:
        try:
            route()
        except (ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # surfaced in the test by check_handler_errors()
            self.simulator.handler_errors.append(exc)
            self.close_connection = True

    def _route_post(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/_sim/"):
            return self._control(path, raw)
        for region, prefix in REGION_PREFIXES.items():
            if path == prefix + GENERATION_PATH:
                return self._serve_generation(region, path, raw)
            if path == prefix + CUSTOMIZATION_PATH:
                return self._serve_customization(region, path, raw)
        self._send_json(404, {"code": "NotFound", "message": f"No route {path}."})

    def _route_get(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/files/") and parts.path.endswith(".wav"):
            return self._serve_file(parts.path[len("/files/") : -len(".wav")], parts.query)
        if parts.path == "/_sim/requests":
            rows = [
                {**asdict(r), "pcm": None, "pcm_bytes": len(r.pcm)} for r in self.simulator.requests
            ]
            return self._send_json(200, {"requests": rows})
        self._send_json(404, {"code": "NotFound", "message": f"No route {parts.path}."})

    def _control(self, path: str, raw: bytes) -> None:
        """Controls for a simulator in another process (benchmarks, manual testing)."""
        body = json.loads(raw or b"{}")
        if path == "/_sim/faults":
            self.simulator.enqueue_fault(**body)
        elif path == "/_sim/profile":
            self.simulator.profile = UpstreamProfile(**body)
        elif path == "/_sim/voice_faults":
            self.simulator.enqueue_voice_fault(**body)
        elif path == "/_sim/reset":
            self.simulator.clear()
        else:
            return self._send_json(404, {"code": "NotFound", "message": path})
        self._send_json(200, {"ok": True})

    # --- the generation endpoint ----------------------------------------------------------------

    def _serve_generation(self, region: str, path: str, raw: bytes) -> None:
        sim = self.simulator
        headers = {name.lower(): value for name, value in self.headers.items()}
        streamed = headers.get("x-dashscope-sse", "").lower() == "enable"
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = RecordedRequest(path, region, headers, body, streamed)
        sim._record(record)
        request_id = str(uuid.uuid4())
        account = rules.bearer_key(headers)
        refusal = rules.refusal(
            sim.keys,
            region,
            headers,
            body,
            sim.models,
            lambda voice: sim.voice_store.family_of(account, voice),
        )
        if refusal:
            record.status = refusal[0]
            return self._send_error(*refusal, request_id)
        fault = sim._next_fault()
        record.fault = fault.kind if fault else None
        if fault and fault.kind in ERRORS:
            record.status = ERRORS[fault.kind][0]
            return self._send_error(*ERRORS[fault.kind], request_id)
        if fault and fault.kind == "bad_gateway_html":
            record.status = 502
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return self._send_bytes(502, "text/html", page)
        if fault and fault.kind == "drop_connection":
            raise ClientGone
        if fault and fault.kind == "hang":
            sim._sleep(fault.delay_s)
            raise ClientGone

        model, inputs = rules.model_named(body["model"], sim.models), body["input"]
        style = rules.style(inputs, body.get("parameters") or {})
        pcm = render_speech(
            model.id, inputs["voice"], inputs["text"], sim.profile.fixed_audio_seconds, style
        )
        record.pcm, record.status = pcm, 200
        if streamed:
            self._stream(record, model, inputs["text"], pcm, request_id, fault)
        else:
            self._answer_whole(record, model, inputs["text"], pcm, request_id, fault)

    # --- the customization route (voices.py) ---------------------------------------------------

    def _serve_customization(self, region: str, path: str, raw: bytes) -> None:
        sim = self.simulator
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = RecordedRequest(path, region, headers, body, False)
        sim._record(record)
        request_id = str(uuid.uuid4())
        status, *answer = self._customization_answer(region, headers, body)
        record.status = status
        if status != 200:
            return self._send_error(status, *answer, request_id)
        self._send_json(200, {"output": answer[0], "usage": {"count": 1}, "request_id": request_id})

    def _customization_answer(self, region: str, headers: dict, body) -> tuple:
        sim = self.simulator
        refusal = rules.key_refusal(sim.keys, region, headers)
        if refusal:
            return refusal
        if not isinstance(body, dict) or body.get("model") not in FAMILY_OF_SERVICE:
            return ERRORS["model_not_exist"]
        fault = sim._next_voice_fault()
        if fault:
            return (VOICE_ERRORS | ERRORS)[fault]
        offered = {m.id: m.family for m in sim.models if m.offered_in(region)}
        family = FAMILY_OF_SERVICE[body["model"]]
        return sim.voice_store.handle(rules.bearer_key(headers), family, body, offered)

    def _final_audio(self, pcm: bytes, request_id: str, fault: Fault | None) -> dict:
        now = int(time.time())
        expires_at = now - 60 if fault and fault.kind == "expired_url" else now + URL_LIFETIME_S
        audio_id = f"audio_{request_id}"
        delay = fault.delay_s if fault and fault.kind == "slow_url" else 0.0
        self.simulator._store_file(audio_id, pcm, expires_at, delay)
        origin = self.simulator.origin
        if fault and fault.kind == "unreachable_url":
            origin = "http://127.0.0.1:9"  # the discard port: nothing listens there
        url = f"{origin}/files/{audio_id}.wav?Expires={expires_at}&OSSAccessKeyId=SIM&Signature=sim"
        return {"expires_at": expires_at, "data": "", "id": audio_id, "url": url}

    def _answer_whole(
        self, record, model: Model, text: str, pcm: bytes, request_id: str, fault
    ) -> None:
        profile = self.simulator.profile
        seconds = len(pcm) / (2 * SAMPLE_RATE_HZ)
        started = record.received_at + self.simulator._wait_if_held()
        due = profile.first_chunk_delay_s + profile.realtime_factor * seconds
        self.simulator._sleep(started + due - time.time())
        if fault and fault.kind == "malformed_json":
            broken = b'{"output": {"finish_reason": "st'
            return self._send_bytes(200, "application/json", broken, request_id)
        payload = {
            "output": {"finish_reason": "stop", "audio": self._final_audio(pcm, request_id, fault)},
            "usage": rules.usage(model, text, seconds, final=True),
            "request_id": request_id,
        }
        if fault and fault.kind == "missing_output":
            del payload["output"]
        self._send_json(200, payload)

    def _stream(self, record, model: Model, text: str, pcm: bytes, request_id: str, fault) -> None:
        sim, profile = self.simulator, self.simulator.profile
        wake = sim._wake  # taken before answering: a clear() from now on drops this client
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream;charset=UTF-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self._send_request_id(request_id)
        self.end_headers()
        step = max(2, int(profile.chunk_seconds * SAMPLE_RATE_HZ) * 2)
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        started = record.received_at + sim._wait_if_held()
        sent_seconds = 0.0
        for number, chunk in enumerate(chunks, start=1):
            if fault and number > fault.after_chunks:
                if self._stream_fault(fault, number, request_id):
                    return
            due = profile.first_chunk_delay_s + profile.realtime_factor * sent_seconds
            self._pace(record, started + due - time.time(), wake)  # from the request's arrival
            sent_seconds += len(chunk) / (2 * SAMPLE_RATE_HZ)
            frame = {
                "output": {
                    "finish_reason": "null",
                    "audio": {
                        "data": base64.b64encode(chunk).decode(),
                        "expires_at": int(time.time()),
                        "id": f"audio_{request_id}",
                    },
                },
                "usage": rules.usage(model, text, sent_seconds, final=False),
                "request_id": request_id,
            }
            if fault and fault.kind == "missing_output" and number == 1:
                del frame["output"]
            self._write_event(number, "result", 200, frame)
            record.first_audio_sent_at = record.first_audio_sent_at or time.time()
        if fault and fault.kind in (
            "cut_stream",
            "drop_midstream",
            "stall_midstream",
            "data_inspection_midstream",
            "malformed_sse",
        ):
            if self._stream_fault(fault, len(chunks) + 1, request_id):
                return
        final = {
            "output": {"finish_reason": "stop", "audio": self._final_audio(pcm, request_id, fault)},
            "usage": rules.usage(model, text, sent_seconds, final=True),
            "request_id": request_id,
        }
        self._write_event(len(chunks) + 1, "result", 200, final)
        self._write_chunk(b"")

    def _pace(self, record, seconds: float, wake: threading.Event) -> None:
        """Wait until the next frame is due, watching the client: one that hangs up meanwhile is
        noticed at once (record.hung_up_at), as DashScope stops generating and billing."""
        end = time.time() + seconds
        while (left := end - time.time()) > 0:
            ready, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if ready:
                try:
                    gone = self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    gone = True
                if gone:
                    record.hung_up_at = time.time()
                    raise ClientGone
                if wake.wait(max(0.0, end - time.time())):  # it sent something: just wait
                    raise ClientGone
                return
            if wake.is_set():  # cleared or stopped: drop the client
                raise ClientGone

    def _stream_fault(self, fault: Fault, number: int, request_id: str) -> bool:
        """Apply a mid-stream fault; True when the stream is over."""
        kind = fault.kind
        if kind == "data_inspection_midstream":
            code, message = MIDSTREAM_REJECTION
            error = {"code": code, "message": message, "request_id": request_id}
            self._write_event(number, "error", 400, error)
            self._write_chunk(b"")
            return True
        if kind == "cut_stream":
            self._write_chunk(b"")
            return True
        if kind == "drop_midstream":
            raise ClientGone
        if kind == "stall_midstream":
            self.simulator._sleep(fault.delay_s)
            raise ClientGone
        if kind == "malformed_sse":
            self._write_chunk(
                f"id:{number}\nevent:result\n:HTTP_STATUS/200\ndata:{{not json\n\n".encode()
            )
            self._write_chunk(b"")
            return True
        return False

    # --- the files route ------------------------------------------------------------------------

    def _serve_file(self, audio_id: str, query: str) -> None:
        sim = self.simulator
        sim._record(RecordedRequest(self.path, "", {}, None, False))
        stored = sim._file(audio_id)
        if stored is None:
            return self._send_oss_error(404, "NoSuchKey", "The specified key does not exist.")
        wav, expires_at, delay_s = stored
        sim._sleep(delay_s)
        expires = int(parse_qs(query).get("Expires", ["0"])[0])
        if expires != expires_at or expires < time.time():
            return self._send_oss_error(403, "AccessDenied", "Request has expired.")
        self._send_bytes(200, "audio/wav", wav)

    # --- writing --------------------------------------------------------------------------------

    def _send_bytes(
        self, status: int, content_type: str, data: bytes, request_id: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self._send_request_id(request_id)
        self.end_headers()
        self.wfile.write(data)

    def _send_request_id(self, request_id: str | None) -> None:
        """The request id as a header too, which the v2 SDK falls back to (§1.7, item 6); the
        real service's header is [uncertain], the body's `request_id` is what the 1.x SDK reads."""
        if request_id:
            self.send_header("x-request-id", request_id)

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, "application/json", data, payload.get("request_id"))

    def _send_error(self, status: int, code: str, message: str, request_id: str) -> None:
        self._send_json(status, {"code": code, "message": message, "request_id": request_id})

    def _send_oss_error(self, status: int, code: str, message: str) -> None:
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        self._send_bytes(status, "application/xml", xml)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _write_event(self, number: int, event: str, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self._write_chunk(
            f"id:{number}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{data}\n\n".encode()
        )

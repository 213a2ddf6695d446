"""The simulator's WebSocket side on its own: the realtime protocol and the Qwen-Audio task protocol,
spoken with a plain WebSocket client (the app's own client is tested in test_realtime.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dashscope_sim import DashScopeSimulator
from dashscope_sim.realtime import spoken

KEY = {"Authorization": "Bearer sk-sim-beijing"}


def _open(simulator: DashScopeSimulator, model: str, key: dict = KEY, region: str = "beijing"):
    return connect(f"{simulator.realtime_url(region)}?model={model}", additional_headers=key)


def _events(ws, until: str, limit_s: float = 20.0) -> list[dict]:
    """JSON events up to and including the first of type `until` (bounded poll)."""
    got, deadline = [], time.monotonic() + limit_s
    while time.monotonic() < deadline:
        event = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        got.append(event)
        if event["type"] == until:
            return got
    raise AssertionError(f"no {until} in {[e['type'] for e in got]}")


def _send(ws, kind: str, **fields) -> None:
    ws.send(json.dumps({"event_id": "e1", "type": kind, **fields}))


def _audio(events: list[dict]) -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.audio.delta"
    )


def test_server_commit_speaks_each_sentence_as_it_ends(simulator: DashScopeSimulator) -> None:
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        assert _events(ws, "session.created")[0]["session"]["mode"] == "server_commit"
        session = {"voice": "Cherry", "speech_rate": 1.5, "volume": 80, "sample_rate": 16000}
        _send(ws, "session.update", session=session)
        assert _events(ws, "session.updated")[-1]["session"]["sample_rate"] == 16000
        _send(ws, "input_text_buffer.append", text="Hello there. How are")
        first = _events(ws, "response.done")
        _send(ws, "input_text_buffer.append", text=" you?")
        _send(ws, "session.finish")
        rest = _events(ws, "session.finished")
    record = simulator.realtime_sessions[-1]
    assert record.committed == ["Hello there.", " How are you?"]
    full = record.session
    assert _audio(first) == spoken("qwen3-tts-flash-realtime", full, "Hello there.")
    assert _audio(rest) == spoken("qwen3-tts-flash-realtime", full, " How are you?")
    assert first[-1]["response"]["usage"] == {"characters": len("Hello there.")}
    # the controls change the audio: at 1.5x it is shorter than at 1.0x, at 16 kHz
    plain = spoken("qwen3-tts-flash-realtime", {"voice": "Cherry"}, "Hello there.")
    assert len(_audio(first)) / 16000 < len(plain) / 24000 / 1.4


def test_commit_mode_waits_for_commit_and_clear_drops_text(simulator: DashScopeSimulator) -> None:
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        _events(ws, "session.created")
        _send(ws, "session.update", session={"voice": "Ethan", "mode": "commit"})
        _events(ws, "session.updated")
        _send(ws, "input_text_buffer.append", text="Dropped. ")
        _send(ws, "input_text_buffer.clear")
        _events(ws, "input_text_buffer.cleared")
        _send(ws, "input_text_buffer.append", text="Kept. And this.")
        _send(ws, "input_text_buffer.commit")
        _events(ws, "response.done")
        _send(ws, "session.finish")
        _events(ws, "session.finished")
    assert simulator.realtime_sessions[-1].committed == ["Kept. And this."]


@pytest.mark.parametrize(
    ("session", "needle"),
    [
        ({"voice": "Nobody"}, "Voice"),
        ({"voice": "Cherry", "sample_rate": 11025}, "sample_rate"),
        ({"voice": "Cherry", "speech_rate": 3}, "speech_rate"),
        ({"voice": "Cherry", "volume": 101}, "volume"),
        ({"voice": "Cherry", "response_format": "mp3"}, "response_format"),
        ({"voice": "Cherry", "instructions": "whisper"}, "instructions"),
    ],
)
def test_a_refused_session_update_is_an_error_event(
    simulator: DashScopeSimulator, session: dict, needle: str
) -> None:
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        _events(ws, "session.created")
        _send(ws, "session.update", session=session)
        error = _events(ws, "error")[-1]["error"]
    assert error["code"] == "InvalidParameter" and needle in error["message"]


def test_wrong_key_and_unknown_model_are_error_events_then_close(
    simulator: DashScopeSimulator,
) -> None:
    with _open(simulator, "qwen3-tts-flash-realtime", {"Authorization": "Bearer sk-x"}) as ws:
        assert _events(ws, "error")[-1]["error"]["code"] == "InvalidApiKey"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    # qwen-tts-realtime is a Beijing model: Singapore does not know it
    key = {"Authorization": "Bearer sk-sim-singapore"}
    with _open(simulator, "qwen-tts-realtime", key, region="singapore") as ws:
        assert _events(ws, "error")[-1]["error"]["message"] == "Model not exist."


def test_faults(simulator: DashScopeSimulator) -> None:
    simulator.enqueue_realtime_fault("data_inspection", after_chunks=2)
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        _events(ws, "session.created")
        _send(ws, "session.update", session={"voice": "Cherry"})
        _send(ws, "input_text_buffer.append", text="A long enough sentence to speak.")
        events = _events(ws, "error")
    assert sum(e["type"] == "response.audio.delta" for e in events) == 2
    assert events[-1]["error"]["code"] == "DataInspectionFailed"

    simulator.enqueue_realtime_fault("early_close", after_chunks=1)
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        _events(ws, "session.created")
        _send(ws, "session.update", session={"voice": "Cherry"})
        _send(ws, "input_text_buffer.append", text="A long enough sentence to speak.")
        _events(ws, "response.audio.delta")
        with pytest.raises(ConnectionClosed):
            _events(ws, "response.done")

    simulator.enqueue_realtime_fault("never_started", delay_s=30)
    with _open(simulator, "qwen3-tts-flash-realtime") as ws:
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
    assert simulator.realtime_sessions[-1].fault == "never_started"


def test_task_protocol_gives_word_times(simulator: DashScopeSimulator) -> None:
    url = simulator.task_url("beijing")
    header = {"task_id": "t1", "streaming": "duplex"}
    with connect(url, additional_headers=KEY) as ws:
        params = {"voice": "Cherry", "format": "pcm", "sample_rate": 24000}
        params["word_timestamp_enabled"] = True
        run = {"model": "qwen-audio-3.1-tts-flash", "parameters": params, "input": {}}
        ws.send(json.dumps({"header": {**header, "action": "run-task"}, "payload": run}))
        assert json.loads(ws.recv(timeout=10))["header"]["event"] == "task-started"
        for text in ("Hello wide ", "world. 你好。"):
            go = {"input": {"text": text}}
            ws.send(json.dumps({"header": {**header, "action": "continue-task"}, "payload": go}))
        ws.send(json.dumps({"header": {**header, "action": "finish-task"}, "payload": {}}))
        pcm, words = b"", []
        while True:
            message = ws.recv(timeout=10)
            if isinstance(message, bytes):
                pcm += message
                continue
            event = json.loads(message)
            if event["header"]["event"] == "task-finished":
                break
            output = event["payload"]["output"]
            if output["type"] == "sentence-end":
                words += output["sentence"]["words"]
    assert [w["text"] for w in words] == ["Hello", "wide", "world", "你", "好"]
    assert words[0]["begin_time"] == 0
    assert words[-1]["end_time"] <= len(pcm) / 48 + 1  # within the audio (ms at 24 kHz)
    assert all(a["end_time"] <= b["begin_time"] for a, b in zip(words, words[1:], strict=False))

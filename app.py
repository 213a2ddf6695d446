"""Qwen-TTS Showcase: builds the page and serves it (host and port from GRADIO_SERVER_NAME/PORT)."""

from qwen_tts_showcase.collector import set_aside_startup_objects
from qwen_tts_showcase.ui import build_demo, launch_options

demo = build_demo()

if __name__ == "__main__":
    demo.launch(prevent_thread_lock=True, **launch_options())
    set_aside_startup_objects()  # the page and its server, built, are never walked again
    demo.block_thread()

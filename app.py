"""Qwen-TTS Showcase: builds the page and serves it (host and port from GRADIO_SERVER_NAME/PORT)."""

from qwen_tts_showcase.ui import build_demo, launch_options

demo = build_demo()

if __name__ == "__main__":
    demo.launch(**launch_options())

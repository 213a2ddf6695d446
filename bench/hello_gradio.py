"""A bare Gradio hello-world: the cold-start floor the app is compared with."""

import gradio as gr

demo = gr.Interface(lambda name: f"Hello {name}!", "text", "text")

if __name__ == "__main__":
    demo.launch()

"""Entry point for `python app.py` and for a Hugging Face Space (which runs this file).

The UI lives in app/ui.py as a module-level `demo`; launch settings come from the settings object
and Gradio's own GRADIO_SERVER_* variables.
"""

from app.ui import demo, launch_kwargs

if __name__ == "__main__":
    demo.queue().launch(**launch_kwargs())

"""Gradio Blocks UI of Polylex (first version: the page is served; the full UI comes with issue 7)."""

from __future__ import annotations

import os

import gradio as gr

from corpora.settings import get_settings


def launch_kwargs() -> dict:
    settings = get_settings()
    kwargs: dict = {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    }
    if settings.auth:
        user, _, password = settings.auth.partition(":")
        kwargs["auth"] = (user, password)
    return kwargs


with gr.Blocks(title="Polylex") as demo:
    gr.Markdown("# Polylex\nCross-lingual search over legal documents.")

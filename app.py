"""Lineup: build and launch the Gradio app (UI wiring only; the work happens in playground/ and cards/)."""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr

from ui import playground_tab, studio_tab
from ui.settings import AppSettings

HEADER = (
    "# Lineup\n"
    "Compare a family of community chat models side by side, each in its own prompt format, "
    "and build their model cards."
)


def build_demo(settings: AppSettings | None = None) -> gr.Blocks:
    """Build the Lineup Blocks app.

    Args:
        settings: app settings (catalog, memory budget, model dirs); default: from the environment.

    Returns:
        The gr.Blocks with the Playground and Model-card studio tabs.
    """
    settings = settings or AppSettings.from_env()
    # delete_cache: gradio's upload/download cache is swept hourly of files older than an hour
    with gr.Blocks(title="Lineup", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs():
            with gr.Tab("Playground", id="playground"):
                playground_tab.build(settings)
            with gr.Tab("Model-card studio", id="studio"):
                studio_tab.build(settings)
    return demo


def default_host() -> str:
    """LINEUP_HOST, else Gradio's GRADIO_SERVER_NAME, else 0.0.0.0 on a Space and loopback elsewhere."""
    on_space = bool(os.environ.get("SPACE_ID"))
    return os.environ.get("LINEUP_HOST") or os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_space else "127.0.0.1")


def main(argv: list[str] | None = None) -> None:
    """Parse --host/--port, prepare the demo models, and launch the app."""
    parser = argparse.ArgumentParser(description="Run the Lineup app")
    parser.add_argument("--host", default=default_host(), help="interface to bind (default: 127.0.0.1; 0.0.0.0 on a Space)")
    port = os.environ.get("LINEUP_PORT") or os.environ.get("GRADIO_SERVER_PORT") or "7860"
    parser.add_argument("--port", type=int, default=int(port), help="port to bind (default: 7860)")
    args = parser.parse_args(argv)
    settings = AppSettings.from_env()
    settings.prepare(log=print)
    demo = build_demo(settings)
    demo.queue(default_concurrency_limit=settings.concurrency_limit, max_size=settings.queue_size)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=False,
        show_error=False,
        max_file_size=settings.max_upload_bytes,
        state_session_capacity=settings.session_capacity,  # bounds per-session state memory
        theme=gr.themes.Soft(),
        css=playground_tab.CSS + studio_tab.CSS,
    )


if __name__ == "__main__":
    main()

"""Lineup: build and launch the Gradio app (UI wiring only; the work happens in playground/ and cards/)."""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402


def build_demo() -> gr.Blocks:
    """Build the Lineup Blocks app.

    Returns:
        The gr.Blocks with the Playground and Model-card studio tabs.
    """
    with gr.Blocks(title="Lineup", analytics_enabled=False) as demo:
        gr.Markdown("# Lineup\nSide-by-side playground and model-card studio.")
        with gr.Tab("Playground"):
            gr.Markdown("The playground tab is being built.")
        with gr.Tab("Model-card studio"):
            gr.Markdown("The model-card studio tab is being built.")
    return demo


def main(argv: list[str] | None = None) -> None:
    """Parse --host/--port and launch the app."""
    parser = argparse.ArgumentParser(description="Run the Lineup app")
    parser.add_argument("--host", default=os.environ.get("LINEUP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LINEUP_PORT", "7860")))
    args = parser.parse_args(argv)
    build_demo().queue(default_concurrency_limit=4).launch(server_name=args.host, server_port=args.port, share=False)


if __name__ == "__main__":
    main()

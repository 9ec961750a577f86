"""Gradio adapters: thin functions that call playground/ and cards/ and shape their results for the UI."""

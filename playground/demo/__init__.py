"""Offline demo models: tiny members of each architecture of the family, built in seconds."""

from playground.demo.build import DEMOS, build_demo_models, ensure_demo_models, get_demo

__all__ = ["DEMOS", "build_demo_models", "ensure_demo_models", "get_demo"]

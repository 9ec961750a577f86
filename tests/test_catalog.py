"""The model catalog is data: it validates, lists the family, and refuses bad entries clearly."""

from __future__ import annotations

import json

import pytest
import yaml

from playground.catalog import get_model, list_models, load_catalog, resolve_model, spec_for_folder
from playground.errors import CatalogError, PathNotAllowedError, UnknownModelError
from playground.formats import get_format
from playground.sampling import PRESETS

FAMILY = {
    "euclaise/Memphis-CoT-3B": "memphis-cot",
    "euclaise/Memphis-scribe-3B": "memphis",
    "Neko-Institute-of-Science/metharme-7b": "metharme",
    "Joseph717171/Cerebrum-1.0-12.25B": "cerebrum",
    "AetherResearch/Cerebrum-1.0-7b": "cerebrum",
    "turboderp/Cat-Llama-3-70B-instruct": "cat-llama3",
    "stabilityai/stablelm-3b-4e1t": "memphis",
}


def test_catalog_ships_the_family_with_their_formats():
    by_repo = {m.repo: m for m in list_models() if m.repo}
    for repo, fmt in FAMILY.items():
        assert by_repo[repo].format == fmt


def test_card_presets_are_attached():
    by_repo = {m.repo: m for m in list_models() if m.repo}
    assert PRESETS[by_repo["euclaise/Memphis-CoT-3B"].preset].values["temperature"] == 0.5
    assert PRESETS[by_repo["euclaise/Memphis-CoT-3B"].preset].values["top_p"] == 0.8
    assert PRESETS[by_repo["AetherResearch/Cerebrum-1.0-7b"].preset].values["temperature"] == 0.0


@pytest.mark.parametrize("spec", list_models(), ids=lambda m: m.id)
def test_every_entry_is_complete(spec):
    get_format(spec.format)
    assert spec.preset in PRESETS
    assert spec.label and spec.description and spec.license and spec.context_length > 0
    assert spec.params_b and spec.params_b > 0


def test_demo_models_are_labelled():
    demos = [m for m in list_models() if m.demo]
    assert {m.architecture for m in demos} >= {"stablelm", "llama", "mistral"}
    assert all("demo" in m.label.lower() and m.local_path is not None for m in demos)


def test_unknown_model_lists_valid_ids():
    with pytest.raises(KeyError) as info:
        get_model("gpt-5")
    assert isinstance(info.value, UnknownModelError)
    assert "metharme-7b" in str(info.value)


def _write(tmp_path, models):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


GOOD = {"id": "mine", "label": "Mine", "repo": "me/mine", "architecture": "llama", "context_length": 2048, "format": "chatml"}


def test_a_user_adds_a_model_by_adding_an_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEUP_CATALOG", str(_write(tmp_path, [GOOD])))
    assert get_model("mine").repo == "me/mine"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "colour"),
        ({"format": "nope"}, "unknown format 'nope'"),
        ({"repo": "not-a-repo"}, "org/name"),
        ({"repo": None}, "needs a repo, a path or an endpoint"),
        ({"context_length": 0}, "context_length"),
        ({"id": "Has Spaces"}, "id"),
        ({"endpoint": {"url": "http://x", "protocol": "grpc"}}, "protocol"),
    ],
)
def test_bad_entries_name_the_field(tmp_path, change, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, [{**GOOD, **change}]))


def test_duplicate_ids_are_refused(tmp_path):
    with pytest.raises(CatalogError, match="duplicate"):
        load_catalog(_write(tmp_path, [GOOD, GOOD]))


def test_catalog_without_models_list_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("models: 3\n")
    with pytest.raises(CatalogError, match="models"):
        load_catalog(path)


def test_a_local_folder_becomes_an_ad_hoc_model(tmp_path):
    folder = tmp_path / "My Model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "mistral", "max_position_embeddings": 4096}))
    spec = resolve_model(str(folder))
    assert spec.architecture == "mistral" and spec.context_length == 4096 and spec.format is None
    assert spec.id == "local-my-model"


def test_local_paths_outside_allowed_dirs_are_refused(tmp_path):
    allowed = tmp_path / "models"
    (allowed / "ok").mkdir(parents=True)
    (allowed / "ok" / "config.json").write_text("{}")
    assert spec_for_folder(allowed / "ok", [allowed]).path
    with pytest.raises(PathNotAllowedError):
        spec_for_folder(allowed / "ok" / ".." / "..", [allowed])
    with pytest.raises(PathNotAllowedError):
        spec_for_folder("/etc", [allowed])


def test_a_folder_without_config_is_not_a_model(tmp_path):
    with pytest.raises(CatalogError, match=r"config\.json"):
        spec_for_folder(tmp_path)

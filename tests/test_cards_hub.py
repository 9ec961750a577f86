"""Hub push with a fake token and a fake HfApi: clear messages offline or without a token; the token never shows."""

from __future__ import annotations

import pytest

from cards import build, push_card
from cards.cli import main
from cards.errors import HubError

TOKEN = "hf_FAKEtoken0123456789abcdefGHIJ"
CARD = build({"model_name": "M", "metadata": {"license": "mit"}, "summary": "Hello."})


class FakeApi:
    """Records upload_file calls; optionally fails like huggingface_hub does."""

    def __init__(self, error: Exception | None = None):
        self.calls: list[dict] = []
        self.error = error

    def upload_file(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return type("Info", (), {"commit_url": "https://huggingface.co/org/m/commit/abc", "pr_url": None})()


class HttpError(Exception):
    """An HTTP error carrying a response with a status code (and the token in its text)."""

    def __init__(self, status: int):
        super().__init__(f"{status} Client Error: Authorization: Bearer {TOKEN}")
        self.response = type("R", (), {"status_code": status})()


@pytest.fixture
def online(monkeypatch):
    """Pretend the network is allowed: no offline flags, no token in the environment."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)


def test_push_uploads_readme(online):
    api = FakeApi()
    result = push_card(CARD, "org/m", token=TOKEN, create_pr=True, api=api)
    call = api.calls[0]
    assert (call["path_in_repo"], call["repo_id"], call["create_pr"], call["token"]) == ("README.md", "org/m", True, TOKEN)
    assert call["path_or_fileobj"] == CARD.encode()
    assert TOKEN not in result.message and result.token_source == "argument"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (HttpError(401), "the token was rejected"),
        (HttpError(403), "cannot write to org/m"),
        (HttpError(404), "org/m does not exist; create it first"),
        (HttpError(500), "push to org/m failed: HttpError: 500 Client Error: Authorization: Bearer ***"),
        (ConnectionError(f"boom {TOKEN}"), "push to org/m failed: ConnectionError: boom ***"),
    ],
)
def test_push_errors_never_show_the_token(online, error, message):
    with pytest.raises(HubError) as err:
        push_card(CARD, "org/m", token=TOKEN, api=FakeApi(error))
    assert message in str(err.value)
    assert TOKEN not in str(err.value)


def test_token_from_environment(online, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api = FakeApi()
    assert push_card(CARD, "org/m", api=api).token_source == "HF_TOKEN"
    assert api.calls[0]["token"] == TOKEN


def test_no_token_is_a_clear_error(online):
    with pytest.raises(HubError, match="no Hugging Face token: set HF_TOKEN or run `hf auth login`"):
        push_card(CARD, "org/m", api=FakeApi())


def test_offline_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    api = FakeApi()
    with pytest.raises(HubError, match="HF_HUB_OFFLINE is set"):
        push_card(CARD, "org/m", token=TOKEN, api=api)
    assert api.calls == []


def test_unreachable_network_fails_fast(online, monkeypatch):
    monkeypatch.setattr("cards.hub.reachable", lambda endpoint, timeout=3.0: False)
    with pytest.raises(HubError, match="cannot reach"):
        push_card(CARD, "org/m", token=TOKEN)


def test_dry_run_needs_no_network_and_hides_the_token(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    result = push_card(CARD, "org/m", dry_run=True, create_pr=True)
    assert result.dry_run and "would open a pull request on org/m" in result.message
    assert "a token from HF_TOKEN" in result.message and TOKEN not in result.message


@pytest.mark.parametrize(
    ("card", "repo", "message"),
    [(CARD, "not-a-repo", "is not an 'org/name' repo id"),
     ("---\nlicense: nope\n---\n# M\n", "org/m", r"the card has 1 error\(s\)")],
)
def test_push_refuses_bad_input(online, card, repo, message):
    with pytest.raises(HubError, match=message):
        push_card(card, repo, token=TOKEN, api=FakeApi())


def test_cli_push_never_prints_the_token(online, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    api = FakeApi(HttpError(500))
    monkeypatch.setattr("huggingface_hub.HfApi", lambda: api)
    monkeypatch.setattr("cards.hub.reachable", lambda endpoint, timeout=3.0: True)
    readme = tmp_path / "README.md"
    readme.write_text(CARD)
    assert main(["push", str(readme), "--repo", "org/m"]) == 2
    assert main(["push", str(readme), "--repo", "org/m", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    assert "push to org/m failed" in out.err and "dry run" in out.err

"""The card spec (version 1): a frozen pydantic model; `python -m cards schema` prints its JSON schema.

A spec names the model, its metadata (kept in the order given), and the parts of the card. When
`sections` has a `- part: NAME` placement or a verbatim `- text:` entry it is the whole body, in order
(every filled part must then be placed; the title only appears where placed). Otherwise the body is
title, summary, the generated parts, the free sections, then limitations, links and citation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)

from cards.benchmarks import ComparisonSpec, LeaderboardSpec
from cards.hubids import is_hub_id
from cards.merge import MergeSpec
from cards.prompt import PromptFormatSpec
from cards.specbase import Markdown, Strict
from cards.training import TrainingSpec

SPEC_VERSION = 1
Relation = Literal["adapter", "merge", "quantized", "finetune"]
PartName = Literal["title", "summary", "lineage", "merge", "training", "prompt_format", "benchmarks",
                   "leaderboard", "limitations", "links", "citation"]
# Generated parts are wrapped in <!-- lineup:begin/end KIND --> so a later build replaces them in place.
MANAGED = ("lineage", "merge", "training", "prompt_format", "benchmarks", "leaderboard", "links", "citation")
DEFAULT_HEAD = ("title", "summary", "lineage", "merge", "training", "prompt_format", "benchmarks", "leaderboard")
DEFAULT_TAIL = ("limitations", "links", "citation")


class Metadata(BaseModel):
    """Card metadata (YAML front matter): typed known keys plus any extra keys, in the order given."""

    model_config = ConfigDict(frozen=True, extra="allow")

    license: str | None = Field(None, description="A Hub license id, or 'other' with license_name and license_link.")
    license_name: str | None = None
    license_link: str | None = None
    language: str | list[str] | None = Field(None, description="ISO 639 codes; quote 'no' (Norwegian).")
    library_name: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] | None = None
    datasets: str | list[str] | None = None
    base_model: str | list[str] | None = Field(None, description="Hub id(s) of the parent model(s).")
    base_model_relation: Relation | None = None
    co2_eq_emissions: float | dict[str, Any] | None = None
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler) -> Metadata:
        model = handler(data)
        if isinstance(data, dict):
            model._order = tuple(data)
        elif isinstance(data, Metadata):
            model._order = data._order
        return model

    @field_validator("language", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in items):
            raise ValueError("a language is a boolean; an unquoted no/yes became false/true in YAML 1.1 — "
                             "write the code in quotes, e.g. 'no' for Norwegian")
        return value

    @model_serializer(mode="plain")
    def _ordered(self) -> dict[str, Any]:
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        """The metadata as given: keys in their original order, explicit nulls kept."""
        extra = self.model_extra or {}
        return {k: extra[k] if k in extra else getattr(self, k) for k in self._order}


class LineageStep(Strict):
    """One ancestor, oldest first."""

    model: str = Field(min_length=1, description="Hub id (linked) or a name.")
    label: str | None = Field(None, description="Display name.")
    relation: Relation | None = Field(None, description="How this step was made from the previous one.")
    note: str | None = Field(None, description="One line on how.")

    @field_validator("note", "label", "model")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or " — " in value):
            raise ValueError("must be one line without ' — '")
        return value


class LineageSpec(Strict):
    """Where the model comes from: a chain of ancestors and how this model was made from the last."""

    title: str = "Lineage"
    level: int = Field(2, ge=1, le=4)
    chain: list[LineageStep] = Field(min_length=1)
    relation: Relation = Field("finetune", description="How this model was made from the last step.")
    note: str | None = None
    set_metadata: bool = Field(True, description="Add base_model (the last step) and base_model_relation.")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"chain": data} if isinstance(data, list) else data


class Link(Strict):
    """A link in the links section."""

    label: str = Field(min_length=1)
    url: str = Field(pattern=r"^(https?://|mailto:)\S+$")
    note: str | None = None


class LinksSpec(Strict):
    """A list of links."""

    title: str = "Links"
    level: int = Field(2, ge=1, le=4)
    items: list[Link] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"items": data} if isinstance(data, list) else data


class CitationSpec(Strict):
    """A BibTeX citation."""

    title: str = "Citation"
    level: int = Field(2, ge=1, le=4)
    bibtex: Markdown

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"bibtex": data} if isinstance(data, str) else data


class TextSection(Strict):
    """A heading and markdown text (limitations)."""

    title: str
    level: int = Field(2, ge=1, le=4)
    body: Markdown


class FreeText(Strict):
    """Markdown kept exactly as written (what `import` produces for text it does not manage)."""

    text: str = Field(min_length=1)


class FreeSection(Strict):
    """A free section: a heading and markdown body."""

    title: str = Field(min_length=1)
    level: int = Field(2, ge=1, le=6)
    body: Markdown = ""


class Placement(Strict):
    """Where a generated or structured part goes among the free sections."""

    part: PartName


def _section_kind(value: Any) -> str | None:
    """Which section shape a `sections` item has."""
    if isinstance(value, dict):
        return next((k for k in ("part", "text", "title") if k in value), None)
    return {FreeText: "text", FreeSection: "title", Placement: "part"}.get(type(value))


SectionItem = Annotated[
    Annotated[Placement, Tag("part")] | Annotated[FreeText, Tag("text")] | Annotated[FreeSection, Tag("title")],
    Discriminator(_section_kind, custom_error_type="section_shape",
                  custom_error_message="each section needs 'title' (with 'body'), 'text', or 'part'"),
]


class CardSpec(Strict):
    """Everything a model card says, as data."""

    spec_version: Literal[1] = Field(SPEC_VERSION, description="Version of this spec format.")
    model_name: str = Field(min_length=1, description="The model's name (title and model-index name).")
    repo_id: str | None = Field(None, description="The model's Hub id, org/name (links, snippet, leaderboard).")
    metadata: Metadata = Field(default_factory=Metadata)
    title: str | None = Field(None, description="The H1 title; defaults to model_name.")
    summary: Markdown | None = Field(None, description="Markdown under the title.")
    lineage: LineageSpec | None = None
    merge: MergeSpec | None = None
    training: TrainingSpec | None = None
    prompt_format: PromptFormatSpec | None = None
    benchmarks: ComparisonSpec | None = None
    leaderboard: LeaderboardSpec | None = None
    limitations: TextSection | None = None
    links: LinksSpec | None = None
    citation: CitationSpec | None = None
    sections: list[SectionItem] = Field(default_factory=list, description="Free sections and part placements, in order.")

    @field_validator("limitations", mode="before")
    @classmethod
    def _limitations_short(cls, value: Any) -> Any:
        return {"title": "Limitations", "body": value} if isinstance(value, str) else value

    @field_validator("model_name", "title")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and "\n" in value:
            raise ValueError("must be one line")
        return value

    @field_validator("repo_id")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None and not is_hub_id(value):
            raise ValueError(f"{value!r} is not an 'org/name' Hub id")
        return value

    @model_validator(mode="after")
    def _check(self) -> CardSpec:
        placed = [s.part for s in self.sections if isinstance(s, Placement)]
        dupes = sorted({p for p in placed if placed.count(p) > 1})
        if dupes:
            raise ValueError(f"sections place {dupes} more than once")
        present = set(self.present_parts())
        if self.explicit_layout():
            empty = [p for p in placed if p not in present and p != "title"]
            if empty:
                raise ValueError(f"sections place {empty}, which the spec does not fill; remove the placement or add it")
            missing = [p for p in present if p not in placed and p != "title"]
            if missing:
                raise ValueError(f"{missing} are filled but not placed; add '- part: NAME' for each to sections")
        if self.merge is not None and self.lineage is not None and self.lineage.relation != "merge":
            raise ValueError("the spec has a merge, so lineage.relation must be 'merge'")
        generated = [name for name, part in (("leaderboard", self.leaderboard), ("benchmarks", self.benchmarks))
                     if part is not None and part.model_index]
        if generated and "model-index" in (self.metadata.model_extra or {}):
            raise ValueError(f"model-index is in metadata and would also be generated from {generated}; "
                             f"set {generated[0]}.model_index: false or drop metadata.model-index")
        return self

    def present_parts(self) -> list[str]:
        """Parts this spec fills, in default order."""
        filled = {"title": True, "summary": self.summary}
        return [p for p in DEFAULT_HEAD + DEFAULT_TAIL if filled.get(p, getattr(self, p, None))]

    def explicit_layout(self) -> bool:
        """True when `sections` is the whole body (it has a `part:` or a verbatim `text:` entry)."""
        return any(isinstance(s, (Placement, FreeText)) for s in self.sections)

    def layout(self) -> list[Placement | FreeText | FreeSection]:
        """The body, in order: placements for parts and the free sections."""
        if self.explicit_layout():
            return list(self.sections)
        parts = self.present_parts()
        head = [Placement(part=p) for p in parts if p in DEFAULT_HEAD]
        tail = [Placement(part=p) for p in parts if p in DEFAULT_TAIL]
        return head + list(self.sections) + tail

"""Classroom links (issue 12): what a teacher's link hides, locks and shows, read from its query.

`hide=lr,optimizer,clip` hides those controls, `lock=` shows them disabled (their values, from the link or
the preset, still apply); names come from the one settings vocabulary plus whole areas (GROUPS).
`view=present` is the projector mode. A link without any setting opens the landing preset.
Pure functions: the sidebar (rnnlab.ui.settings) draws what they decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnnlab.config import FIELDS

# The query keys that shape the page rather than the run: never settings, never warned about as unknown.
CLASSROOM_KEYS = ("view", "hide", "lock", "lesson")
VIEWS = ("present",)
# What `/` with no link opens: the classic notebook, so a newcomer's first Train reproduces it.
LANDING_PRESET = "udacity-sine"

_SECTION_GROUP = {"data": "data", "model": "model", "train": "training"}
# Whole areas: "data" is both a setting (the series) and the area around it; "sidebar" is every control
# (the preset choice and the share link too); "pages" is the page navigation.
GROUPS: dict[str, frozenset[str]] = {
    **{group: frozenset(f.name for f in FIELDS if f.section == section) for section, group in _SECTION_GROUP.items()},
    "sidebar": frozenset(f.name for f in FIELDS) | {"preset", "share"},
    "pages": frozenset({"pages"}),
}
CONTROL_NAMES = frozenset(f.name for f in FIELDS) | {"preset", "share"}


@dataclass(frozen=True)
class Classroom:
    """What a link asks of the page: controls hidden or locked (by name: settings, "preset", "share",
    "pages"), the projector view, and the link's own classroom parameters to carry along."""

    hidden: frozenset[str] = frozenset()
    locked: frozenset[str] = frozenset()
    present: bool = False
    carried: tuple[tuple[str, str], ...] = ()  # (key, value) as given, for the URL and the share link

    @property
    def pinned(self) -> frozenset[str]:
        """Settings nobody can change from this page: their values stay the link's."""
        return (self.hidden | self.locked) & frozenset(f.name for f in FIELDS)

    def shows(self, name: str) -> bool:
        return name not in self.hidden

    def locks(self, name: str) -> bool:
        return name in self.locked

    @property
    def active(self) -> bool:
        return bool(self.hidden or self.locked or self.present)


def _last(raw: Any) -> str:
    """One query value: the last of a repeated key, as the settings read them."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else ""
    return str(raw).strip()


def _names(key: str, raw: str) -> tuple[frozenset[str], list[str]]:
    names: set[str] = set()
    warnings: list[str] = []
    for word in (w.strip().lower() for w in raw.split(",")):
        if not word:
            continue
        if word in GROUPS:
            names |= GROUPS[word]
        elif word in CONTROL_NAMES:
            names.add(word)
        else:
            warnings.append(f"{key}= names no control {word[:40]!r}; it takes setting names "
                            f"(lr, optimizer, ...) and the areas {', '.join(GROUPS)}. Ignored.")
    return frozenset(names), warnings


def parse(params: Mapping[str, Any]) -> tuple[Classroom, list[str]]:
    """The classroom part of a link's query ({key: value or [values]}), with a sentence per bad name."""
    warnings: list[str] = []
    hidden, bad = _names("hide", _last(params.get("hide", "")))
    warnings += bad
    locked, bad = _names("lock", _last(params.get("lock", "")))
    warnings += bad
    view = _last(params.get("view", "")).lower()
    if view and view not in VIEWS:
        warnings.append(f"view must be {' or '.join(VIEWS)} (got {view[:40]!r}). Ignored.")
    carried = tuple((key, _last(params[key])) for key in CLASSROOM_KEYS if key in params and _last(params[key]))
    # A hidden control is not also drawn disabled: hide wins.
    return Classroom(hidden, locked - hidden, view == "present", carried), warnings


def settings_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The link's query without its classroom keys: what RunConfig.from_query reads."""
    return {key: value for key, value in params.items() if key not in CLASSROOM_KEYS}


def is_landing(params: Mapping[str, Any]) -> bool:
    """A visit with no settings and no lesson in its link (a bare `/`, or `/?view=present`): the landing
    preset applies. Any setting, a preset or a lesson makes it an explicit link, read as given."""
    return not (set(params) - {"view", "hide", "lock"})

"""Load the catalog files, cross-check them and return one immutable Catalog.

Every problem in the catalog is collected and reported together (never only the first), so a
broken layout is found in one run of the tests.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from shared.catalog.models import CodeSet, Collection, IssueType, Layout
from shared.catalog.store_rules import StoreRule, StoreRules, check_store_rules

CATALOG_DIR = Path(__file__).parent
M = TypeVar("M", Layout, CodeSet, StoreRules)
L = TypeVar("L", IssueType, Collection)
# libyaml's safe loader when PyYAML has it: the same documents, read 8 times faster (every worker
# and every ``edcs validate`` loads the whole catalog at start).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """The catalog files are inconsistent; the message lists every problem."""


@dataclass(frozen=True)
class Catalog:
    """Layouts, code sets, collections and issue codes, checked against each other."""

    layouts: dict[str, Layout]
    codesets: dict[str, CodeSet]
    collections: dict[str, Collection]
    issue_types: dict[str, IssueType]
    # Rules that need the store, run at the post barrier (store_rules.yaml).
    store: StoreRules | None = None

    def store_rules(self, record_type: str) -> tuple[StoreRule, ...]:
        """The rules of this record type that need the store, in file order."""
        rules = self.store.rules if self.store is not None else ()
        return tuple(r for r in rules if r.record_type == record_type)

    def collection(self, code: str) -> Collection | None:
        """The collection with this public code, if edcs knows it."""
        return self.collections.get(code.upper())

    @property
    def all_record_types(self) -> frozenset[str]:
        """Every record type code the seeds name (CFS Record Type code set), known layout or not."""
        codes = self.codesets.get("record-type")
        return frozenset(codes.values if codes else ()) | frozenset(self.layouts)

    def layout_of(self, collection: Collection) -> Layout:
        """The record layout files of this collection use."""
        return self.layouts[collection.layout]


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)


def _check_layout(layout: Layout, codesets: dict[str, CodeSet], codes: set[str]) -> list[str]:
    where = f"layout {layout.record_type}"
    problems: list[str] = []
    names = [f.name for f in layout.fields]
    ids = [f.id for f in layout.fields]
    for label, values in (("field name", names), ("field id", ids)):
        dupes = {v for v in values if values.count(v) > 1}
        problems += [f"{where}: duplicate {label} {v}" for v in sorted(dupes)]
    known = set(names)
    refs = [*layout.operational_key, *layout.primary_key, *layout.replace_set,
            *layout.timeline_key, *(n for group in layout.unique_in_file for n in group),
            *(n for r in layout.required_when_repeated for n in (r.field, *r.group)),
            layout.school_field, layout.lea_field, layout.window_year_field,
            layout.operation_field,
            layout.effective_start_field, layout.effective_end_field, layout.match_field]
    problems += [f"{where}: unknown field {r}" for r in refs if r is not None and r not in known]
    for f in layout.fields:
        if f.codeset is not None and f.codeset not in codesets:
            problems.append(f"{where}: field {f.id} names unknown code set {f.codeset}")
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except re.error as exc:
                problems.append(f"{where}: field {f.id} pattern is not a regular expression: "
                                f"{exc}")
    problems += _check_framing(layout)
    for rule in layout.record_rules:
        problems += [f"{where}: rule {rule.id} names unknown field {u}"
                     for u in rule.reads() if u not in known]
        if rule.code not in codes:
            problems.append(f"{where}: rule {rule.id} uses unregistered issue code {rule.code}")
    return problems


def _check_framing(layout: Layout) -> list[str]:
    """A fixed-width record is its fields' widths; the header record names its roles."""
    where = f"layout {layout.record_type}"
    framing = layout.framing
    problems: list[str] = []
    width = sum(f.max_length for f in layout.fields)
    if framing.fixed_width is not None and framing.fixed_width != width:
        problems.append(f"{where}: fixed_width {framing.fixed_width} is not the sum of the "
                        f"field widths {width}")
    header = framing.header_record
    if header is not None:
        names = {f.name for f in header.fields}
        roles = (header.count_field, header.file_name_field, header.period_field)
        problems += [f"{where}: header record has no field {r}" for r in roles
                     if r not in names]
        size = sum(f.max_length for f in header.fields)
        if framing.fixed_width is not None and size != framing.fixed_width:
            problems.append(f"{where}: header record is {size} characters, not "
                            f"{framing.fixed_width}")
    return problems


def _check_effects(layout: Layout, layouts: dict[str, Layout]) -> list[str]:
    """Effects name fields that exist on both sides, and the target's group key can be read
    from the cause record."""
    problems: list[str] = []
    mine = {f.name for f in layout.fields}
    for effect in layout.effects:
        where = f"layout {layout.record_type} effect {effect.id}"
        target = layouts.get(effect.target)
        if target is None:
            problems.append(f"{where}: unknown target {effect.target}")
            continue
        theirs = {f.name for f in target.fields}
        own = [effect.when.field, effect.value_from,
               effect.unless.field if effect.unless else None, *target.group_key]
        problems += [f"{where}: unknown field {n}" for n in own if n and n not in mine]
        other = [effect.field, effect.target_when.field if effect.target_when else None]
        problems += [f"{where}: target has no field {n}" for n in other if n and n not in theirs]
        if not target.group_key:
            problems.append(f"{where}: target {effect.target} has no group key to match on")
    return problems


def _parse_list(model: type[L], path: Path, problems: list[str]) -> list[L]:
    """Every valid entry of a YAML list file; each invalid entry is added to ``problems``."""
    try:
        entries = _read_yaml(path)
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: {exc}")
        return []
    parsed: list[L] = []
    for index, entry in enumerate(entries or []):
        try:
            parsed.append(model.model_validate(entry))
        except ValidationError as exc:
            problems.append(f"{path.name} entry {index + 1}: {exc}")
    return parsed


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Read and cross-check every catalog file under ``directory``."""
    problems: list[str] = []

    def parse(model: type[M], path: Path) -> M | None:
        try:
            return model.model_validate(_read_yaml(path))
        except (ValidationError, yaml.YAMLError) as exc:
            problems.append(f"{path.name}: {exc}")
            return None

    layouts = [parse(Layout, p) for p in sorted((directory / "layouts").glob("*.yaml"))]
    codesets = [parse(CodeSet, p) for p in sorted((directory / "codesets").glob("*.yaml"))]
    issue_types = _parse_list(IssueType, directory / "issues.yaml", problems)
    collections = _parse_list(Collection, directory / "collections.yaml", problems)
    store_file = directory / "store_rules.yaml"
    store = parse(StoreRules, store_file) if store_file.exists() else None
    catalog = Catalog(
        layouts={x.record_type: x for x in layouts if x is not None},
        codesets={x.name: x for x in codesets if x is not None},
        collections={x.code: x for x in collections},
        issue_types={x.code: x for x in issue_types},
        store=store,
    )
    codes = set(catalog.issue_types)
    if store is not None:
        problems += check_store_rules(store, catalog.layouts, codes)
    for layout in catalog.layouts.values():
        problems += _check_layout(layout, catalog.codesets, codes)
        problems += _check_effects(layout, catalog.layouts)
    problems += [f"collection {c.code}: unknown layout {c.layout}"
                 for c in catalog.collections.values() if c.layout not in catalog.layouts]
    if problems:
        raise CatalogError("catalog problems:\n  " + "\n  ".join(problems))
    return catalog


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with edcs, loaded once per process."""
    return load_catalog()

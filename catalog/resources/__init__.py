"""Spreadsheets in and out: one django-import-export resource per catalog kind, natural keys
throughout; openpyxl reads and writes every xlsx file."""

from ..spreadsheets import (
    FORMATS,
    CellTooLong,
    SheetTooLong,
    UnreadableFile,
    escape_formula,
    unescape_formula,
)
from .base import CatalogResource, FileProblem
from .kinds import (
    RESOURCES,
    CitationResource,
    CrisisResource,
    ExerciseResource,
    ExerciseSeriesResource,
    MembershipResource,
    MilestoneResource,
    SourceResource,
    StateResource,
    SummitResource,
)

RESOURCE_FOR_MODEL = {resource._meta.model: resource for resource in RESOURCES}

__all__ = [
    "FORMATS",
    "RESOURCES",
    "RESOURCE_FOR_MODEL",
    "CatalogResource",
    "CellTooLong",
    "CitationResource",
    "CrisisResource",
    "ExerciseResource",
    "ExerciseSeriesResource",
    "FileProblem",
    "MembershipResource",
    "MilestoneResource",
    "SheetTooLong",
    "SourceResource",
    "StateResource",
    "SummitResource",
    "UnreadableFile",
    "escape_formula",
    "unescape_formula",
]

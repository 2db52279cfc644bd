"""Spreadsheets in and out: one resource per catalog kind, natural keys throughout."""

from .base import CatalogResource, FileProblem
from .cells import escape_formula, unescape_formula
from .formats import FORMATS, UnreadableFile
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
    "CitationResource",
    "CrisisResource",
    "ExerciseResource",
    "ExerciseSeriesResource",
    "FileProblem",
    "MembershipResource",
    "MilestoneResource",
    "SourceResource",
    "StateResource",
    "SummitResource",
    "UnreadableFile",
    "escape_formula",
    "unescape_formula",
]

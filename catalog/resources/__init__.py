"""Spreadsheets in and out: one django-import-export resource per catalog kind, natural keys
throughout. The file formats, and their limits, are in catalog/spreadsheets.py."""

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
]

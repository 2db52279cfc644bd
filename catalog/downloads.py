"""Public downloads of a list page's current results, through the same resources as the admin.

`download(queryset, kind, format, filename)` answers csv and json as a stream, each record read
a chunk at a time and rendered by the resource (the same rows as the admin export and
`export_catalog`), and xlsx as a workbook written by openpyxl's write-only mode. Every text
cell is formula-escaped, and a download imports back through the resource.
"""

import csv
import io
import json
import re

from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils.translation import gettext

from .resources import RESOURCE_FOR_MODEL, CatalogResource
from .resources.workbook import export_rows
from .spreadsheets import CellTooLong, SheetTooLong, write_xlsx

#: Rows sent per chunk of a streamed response.
LINES_PER_CHUNK = 200
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)


def resource_for(kind):
    """A resource instance from a resource class or instance, or a model."""
    if isinstance(kind, CatalogResource):
        return kind
    if isinstance(kind, type) and issubclass(kind, CatalogResource):
        return kind()
    return RESOURCE_FOR_MODEL[kind]()


class _Line:
    """A file-like object csv.writer writes one line into, read back as it goes."""

    def write(self, text):
        return text


def batched(lines, size=LINES_PER_CHUNK):
    """Lines joined a few hundred at a time: one chunk of the response per batch, not per row."""
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _csv_stream(headers, rows):
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(headers)  # a BOM, so spreadsheet programs read UTF-8
    yield from batched(map(writer.writerow, rows))


def _json_lines(headers, rows):
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + encode(dict(zip(headers, row, strict=True)))


def _json_stream(headers, rows):
    yield "["
    yield from batched(_json_lines(headers, rows))
    yield "\n]\n"


def _xlsx_bytes(title, headers, rows):
    buffer = io.BytesIO()
    write_xlsx(buffer, [(title[:31] or "data", headers, rows)])
    return buffer.getvalue()


def download(queryset, kind, format, filename):
    """A response offering `queryset` as `filename`.`format` (csv, json or xlsx)."""
    if format not in CONTENT_TYPES:
        raise ValueError(f"Unknown download format '{format}': use one of {', '.join(FORMATS)}")
    resource = resource_for(kind)
    headers, rows = export_rows(resource, queryset)
    if format == "xlsx":
        try:
            workbook = _xlsx_bytes(resource.sheet, headers, rows)
        except (CellTooLong, SheetTooLong):
            return HttpResponseBadRequest(
                gettext(
                    "These results do not fit in an xlsx sheet (it holds 1,048,576 rows and 32,767 "
                    "characters a cell). Download them as csv or json instead."
                ),
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(workbook, content_type=CONTENT_TYPES[format])
    else:
        stream = _csv_stream(headers, rows) if format == "csv" else _json_stream(headers, rows)
        response = StreamingHttpResponse(stream, content_type=CONTENT_TYPES[format])
    safe_name = re.sub(r"[^\w.-]+", "-", filename).strip("-.") or "download"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}.{format}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response

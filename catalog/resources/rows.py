"""Export rows built from plain values, the columns taken from a resource's own fields.

The library renders a row by asking every field of every record for its value (a model
instance per record, a related instance per foreign key and per many-to-many link). Here the
same columns are read as plain values: a chunk of records at a time through `values_list`,
foreign keys as their natural key through a join, many-to-many cells from the through table in
one query per field per chunk, citations' records per kind in one query per chunk. Every cell
is still rendered by the field's own widget, so the admin export, `export_catalog` and the
public downloads write the same sheet.
"""

from collections import defaultdict

from .cells import escape_row
from .widgets import KeysWidget, KeyWidget

#: Records read per chunk: the rows of one chunk and their relations are in memory at once.
EXPORT_CHUNK = 2000


class Plan:
    """How to read and render the export columns of one resource.

    `lookups` are the `values_list` names read per record (the pk first); `cells` turn one
    such tuple into its rendered cells, reading relations that `loaders` fetch for each chunk
    of tuples.
    """

    def __init__(self, resource, fields, render_kwargs):
        self.resource = resource
        self.headers = [str(field.column_name) for field in fields]
        self.lookups = ["pk"]
        self.cells = []
        self.loaders = []
        self.related = {}
        for field in fields:
            self.cells.append(self.cell_for(field, render_kwargs))

    def index_of(self, lookup):
        if lookup not in self.lookups:
            self.lookups.append(lookup)
        return self.lookups.index(lookup)

    def cell_for(self, field, render_kwargs):
        """A function rendering one column's cell from a values tuple."""
        resource = self.resource
        name = resource.get_field_name(field)
        dehydrate = field.get_dehydrate_method(name)
        if callable(dehydrate) or hasattr(resource, dehydrate):
            raise TypeError(f"Column `{field.column_name}` is computed by a method: render it from a record.")
        widget = field.widget
        cell = resource.export_cell(self, field)
        if cell is not None:
            return cell
        if isinstance(widget, KeysWidget):
            return self.keys_cell(field)
        if isinstance(widget, KeyWidget):
            index = self.index_of(f"{field.attribute}__{widget.field}")
            render_key = widget.render_key
            return lambda row: render_key(row[index])
        if not field.attribute or "__" in field.attribute:
            raise TypeError(f"Column `{field.column_name}` does not read a field of the record.")
        index = self.index_of(field.attribute)
        render = widget.render
        if render_kwargs:
            return lambda row: render(row[index], **render_kwargs)
        return lambda row: render(row[index])

    def keys_cell(self, field):
        """A many-to-many cell: the related natural keys, read from the through table."""
        widget = field.widget
        m2m = self.resource._meta.model._meta.get_field(field.attribute)
        through = m2m.remote_field.through
        owner = f"{m2m.m2m_field_name()}_id"
        target = f"{m2m.m2m_reverse_field_name()}__{widget.field}"
        related = self.related

        def load(chunk):
            keys = defaultdict(list)
            pks = [values[0] for values in chunk]
            for pk, key in through.objects.filter(**{f"{owner}__in": pks}).values_list(owner, target):
                keys[pk].append(key)
            related[field.attribute] = keys

        self.loaders.append(load)
        render_keys = widget.render_keys
        return lambda row: render_keys(related[field.attribute].get(row[0], ()))

    def rows(self, queryset, escape=False):
        """Rendered rows of `queryset`, in its order, a chunk of records at a time."""
        cells = self.cells
        chunk = []
        queryset = queryset.prefetch_related(None).values_list(*self.lookups)
        for values in queryset.iterator(chunk_size=EXPORT_CHUNK):
            chunk.append(values)
            if len(chunk) == EXPORT_CHUNK:
                yield from self.render_chunk(chunk, cells, escape)
                chunk = []
        if chunk:
            yield from self.render_chunk(chunk, cells, escape)

    def render_chunk(self, chunk, cells, escape):
        for load in self.loaders:
            load(chunk)
        if escape:
            for values in chunk:
                yield escape_row([cell(values) for cell in cells])
        else:
            for values in chunk:
                yield [cell(values) for cell in cells]

"""Uploaded images: checked, then re-encoded so nothing of the original file but its pixels is kept.

An upload must be a complete JPEG, PNG or WebP image of at most 5 MB and 40 megapixels.
It is decoded in full (a truncated file fails here, not later in a browser), turned upright
by its EXIF orientation, its colours converted to sRGB when it carries a colour profile, and
written out again from its pixels alone: no EXIF, GPS, XMP, colour profile, JPEG comment or
PNG text chunk survives. The display size and the thumbnail are made from the same pixels.

Everything happens in the form's `clean`: a rejected upload is a form error and nothing
is written to MEDIA_ROOT; the files are stored only when the record itself is saved.
"""

import io
import uuid
import warnings
from dataclasses import dataclass

from django import forms
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow's decompression-bomb guard: it warns above this many pixels and refuses to open an
# image of twice as many. We refuse everything above it ourselves, before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Pillow format name -> file extension of the re-encoded file.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

DISPLAY_SIZE = (1600, 1600)
THUMBNAIL_SIZE = (400, 400)
EMBLEM_SIZE = (600, 600)

INVALID_IMAGE = _("Upload a complete JPEG, PNG or WebP image; this file is not one.")


@dataclass
class CleanImage:
    """The re-encoded upload (`original`, the same pixel size) and its smaller renditions."""

    original: ContentFile
    renditions: dict


def _encode(image, image_format, name):
    """Write `image` in `image_format` with no metadata at all."""
    buffer = io.BytesIO()
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, format="JPEG", quality=85, optimize=True)
    elif image_format == "WEBP":
        image.save(buffer, format="WEBP", quality=85)
    else:
        image.save(buffer, format="PNG", optimize=True)
    return ContentFile(buffer.getvalue(), name=name)


def _scaled(image, size):
    copy = image.copy()
    copy.thumbnail(size, Image.Resampling.LANCZOS)
    return copy


def open_checked(upload):
    """Decode `upload` fully and return the Pillow image, or raise forms.ValidationError."""
    if upload.size > MAX_BYTES:
        raise forms.ValidationError(
            _("The image is %(size)s; the limit is %(limit)s."),
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_BYTES)},
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            image_format = image.format
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Image.DecompressionBombError
            if image_format not in ALLOWED_FORMATS:
                raise forms.ValidationError(INVALID_IMAGE, code="invalid_image")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise forms.ValidationError(
            _("The image has more than %(limit)s million pixels."),
            code="too_many_pixels",
            params={"limit": MAX_PIXELS // 1_000_000},
        ) from None
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError):
        raise forms.ValidationError(INVALID_IMAGE, code="invalid_image") from None
    image = without_metadata(ImageOps.exif_transpose(image))
    image.format = image_format
    return image


def without_metadata(image):
    """The pixels alone. Pillow writes back what `info` holds (a JPEG's comment, a PNG's
    colour profile), so `info` is emptied, after converting the colours to sRGB, what a
    browser assumes, when the image came with a profile of its own."""
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
        except (ImageCms.PyCMSError, OSError):
            pass  # a profile that cannot be read: the pixels are kept as they are
    image.info = {}
    return image


def clean_image(upload, renditions, max_size=None):
    """Check and re-encode `upload`, shrunk to fit `max_size` if given; `renditions` maps a
    name to the largest (width, height) of a smaller copy."""
    image = open_checked(upload)
    if max_size:
        image_format = image.format
        image = _scaled(image, max_size)
        image.format = image_format
    extension = ALLOWED_FORMATS[image.format]
    stem = uuid.uuid4().hex
    original = _encode(image, image.format, f"{stem}.{extension}")
    made = {
        name: _encode(_scaled(image, size), image.format, f"{stem}-{name}.{extension}")
        for name, size in renditions.items()
    }
    return CleanImage(original=original, renditions=made)


class CleanImageField(forms.ImageField):
    """A form field whose cleaned value is the re-encoded file, with `.renditions` attached."""

    # The content decides the format and the stored name; the uploaded name is not kept.
    default_validators = []

    def __init__(self, *, renditions=None, max_size=None, **kwargs):
        self.renditions = renditions or {}
        self.max_size = max_size
        kwargs.setdefault(
            "help_text",
            _("JPEG, PNG or WebP, at most 5 MB and 40 megapixels. Metadata such as GPS is removed."),
        )
        super().__init__(**kwargs)

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        cleaned = clean_image(upload, self.renditions, self.max_size)
        cleaned.original.renditions = cleaned.renditions
        return cleaned.original

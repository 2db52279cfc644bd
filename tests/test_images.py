import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageCms, PngImagePlugin

from catalog import images
from catalog.models import Photo, State, Summit

from .admin_forms import admin_form_data, formset_prefix
from .factories import make_state

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def image_bytes(image_format="JPEG", size=(2000, 1000), mode="RGB", **save_options):
    buffer = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 1).save(buffer, format=image_format, **save_options)
    return buffer.getvalue()


def jpeg_with_gps(size=(2000, 1000)):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (41.0, 18.0, 0.0), 3: "E", 4: (69.0, 16.0, 0.0)})
    data = image_bytes("JPEG", size, exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS
    return data


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def summit_with_photo(admin_client, photo_file, **photo_fields):
    """Post the admin's add-summit form with one photo in its inline."""
    page = admin_client.get(reverse("admin:catalog_summit_add"))
    prefix = formset_prefix(page, Photo)
    data = {
        **admin_form_data(page),
        "key": "minsk-2008",
        "kind": "regular",
        "name_zh": "明斯克峰会",
        "name_en": "Minsk summit",
        "date": "2008-09-05",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-0-image": photo_file,
        f"{prefix}-0-alt_zh": "各国领导人合影",
        f"{prefix}-0-alt_en": "The leaders stand for a group photo",
        f"{prefix}-0-caption_en": "Minsk, 2008",
        f"{prefix}-0-credit": "Press service",
        f"{prefix}-0-position": "0",
        **photo_fields,
    }
    return admin_client.post(reverse("admin:catalog_summit_add"), data)


def inline_errors(response):
    return [
        errors for inline in response.context["inline_admin_formsets"] for errors in inline.formset.errors
    ]


def test_uploaded_photo_is_stored_without_metadata_with_display_size_and_thumbnail(admin_client, media_root):
    response = summit_with_photo(admin_client, upload("IMG_0001.jpg", jpeg_with_gps()))

    assert response.status_code == 302
    photo = Photo.objects.get()
    assert photo.record == Summit.objects.get(key="minsk-2008")
    assert (photo.alt_en, photo.credit) == ("The leaders stand for a group photo", "Press service")
    sizes = {}
    for field in ("image", "display", "thumbnail"):
        with Image.open(getattr(photo, field).path) as stored:
            sizes[field] = stored.size
            assert stored.format == "JPEG"
            assert dict(stored.getexif()) == {}
            assert "exif" not in stored.info
    assert sizes == {"image": (2000, 1000), "display": (1600, 800), "thumbnail": (400, 200)}
    assert "IMG_0001" not in photo.image.name
    assert len(stored_files(media_root)) == 3


def jpeg_segments(data):
    """The marker bytes of a JPEG's segments, up to the image data (SOS)."""
    markers, at = [], 2
    while data[at] == 0xFF and data[at + 1] != 0xDA:
        markers.append(data[at + 1])
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return markers


COMMENT, APP1_EXIF_OR_XMP, APP2_ICC = 0xFE, 0xE1, 0xE2


def test_a_jpeg_comment_survives_neither_in_the_original_nor_in_the_thumbnail(admin_client):
    payload = b"<script>alert(document.cookie)</script>"
    sent = image_bytes(
        "JPEG",
        (800, 600),
        comment=payload,
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        exif=Image.Exif(),
    )
    assert COMMENT in jpeg_segments(sent) and APP2_ICC in jpeg_segments(sent)  # the upload has them

    summit_with_photo(admin_client, upload("comment.jpg", sent))

    photo = Photo.objects.get()
    for field in ("image", "display", "thumbnail"):
        stored = getattr(photo, field).read()
        assert payload not in stored, field
        assert not {COMMENT, APP1_EXIF_OR_XMP, APP2_ICC} & set(jpeg_segments(stored)), field


def test_a_png_keeps_no_text_chunk_and_no_colour_profile(admin_client):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<b>hello</b>")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS</x:xmpmeta>")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    sent = image_bytes("PNG", (300, 200), pnginfo=info, icc_profile=profile)

    summit_with_photo(admin_client, upload("a.png", sent, "image/png"))

    photo = Photo.objects.get()
    for field in ("image", "thumbnail"):
        stored = getattr(photo, field).read()
        assert [chunk for chunk in (b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"eXIf") if chunk in stored] == []
        assert b"<b>hello</b>" not in stored and b"GPS" not in stored


def test_png_and_webp_keep_their_format(admin_client):
    summit_with_photo(admin_client, upload("a.png", image_bytes("PNG", (300, 200)), "image/png"))
    summit = Summit.objects.get()
    photo = summit.photos.get()

    assert photo.image.name.endswith(".png")
    assert Image.open(photo.thumbnail.path).size == (300, 200)  # never enlarged

    page = admin_client.get(reverse("admin:catalog_summit_change", args=[summit.pk]))
    prefix = formset_prefix(page, Photo)
    data = {
        **admin_form_data(page),
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-1-image": upload("b.webp", image_bytes("WEBP", (800, 800)), "image/webp"),
        f"{prefix}-1-alt_zh": "第二张",
        f"{prefix}-1-alt_en": "Second",
        f"{prefix}-1-position": "1",
    }
    assert admin_client.post(page.request["PATH_INFO"], data).status_code == 302
    second = summit.photos.get(position=1)
    assert second.image.name.endswith(".webp")
    assert Image.open(second.thumbnail.path).size == (400, 400)


def noise_png(side):
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, format="PNG", compress_level=0
    )
    return buffer.getvalue()


def truncated_png():
    data = noise_png(300)
    return data[: len(data) // 2]


def too_many_bytes():
    data = noise_png(1400)
    assert len(data) > images.MAX_BYTES
    return data


# case -> (file name, bytes, error code)
BAD_UPLOADS = {
    "text renamed .png": lambda: ("notes.png", b"These are not pixels.\n" * 20, "invalid_image"),
    "truncated image": lambda: ("cut.png", truncated_png(), "invalid_image"),
    "gif, not an allowed format": lambda: ("a.gif", image_bytes("GIF", (50, 50), mode="L"), "invalid_image"),
    "over 5 MB": lambda: ("big.png", too_many_bytes(), "file_too_large"),
    "over 40 megapixels": lambda: ("wide.png", image_bytes("PNG", (8000, 5001), mode="1"), "too_many_pixels"),
    "decompression bomb": lambda: (
        "bomb.png",
        image_bytes("PNG", (10000, 9000), mode="1"),
        "too_many_pixels",
    ),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_bad_upload_is_a_form_error_and_nothing_is_stored(admin_client, media_root, case):
    name, data, code = BAD_UPLOADS[case]()

    response = summit_with_photo(admin_client, upload(name, data, "image/png"))

    assert response.status_code == 200
    photo_forms = [form for inline in response.context["inline_admin_formsets"] for form in inline.formset]
    assert [
        {field: [e.code for e in errors] for field, errors in form.errors.as_data().items()}
        for form in photo_forms
    ] == [{"image": [code]}]
    assert Summit.objects.count() == 0
    assert Photo.objects.count() == 0
    assert stored_files(media_root) == []


def test_photo_without_alt_text_is_refused(admin_client, media_root):
    prefix = "catalog-photo-content_type-object_id"

    response = summit_with_photo(
        admin_client, upload("a.jpg", image_bytes()), **{f"{prefix}-0-alt_zh": "", f"{prefix}-0-alt_en": " "}
    )

    assert response.status_code == 200
    assert set(inline_errors(response)[0]) == {"alt_zh", "alt_en"}
    assert stored_files(media_root) == []


def test_pillow_decompression_bomb_guard_is_set_to_forty_megapixels():
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS == 40_000_000


def state_form_data(admin_client, state):
    page = admin_client.get(reverse("admin:catalog_state_change", args=[state.pk]))
    return page.request["PATH_INFO"], admin_form_data(page)


def test_state_emblem_is_shrunk_and_stripped_of_text_chunks(admin_client, media_root):
    state = make_state("BY")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone at home")
    url, data = state_form_data(admin_client, state)

    emblem = upload("emblem.png", image_bytes("PNG", (1200, 900), pnginfo=info), "image/png")
    response = admin_client.post(url, {**data, "emblem": emblem})

    assert response.status_code == 302
    state.refresh_from_db()
    with Image.open(state.emblem.path) as stored:
        assert (stored.format, stored.size) == ("PNG", (600, 450))
        assert "Author" not in stored.info
    assert stored_files(media_root) == [state.emblem.name]


def test_state_emblem_that_is_not_an_image_is_refused(admin_client, media_root):
    state = make_state("AM")
    url, data = state_form_data(admin_client, state)

    response = admin_client.post(url, {**data, "emblem": upload("flag.jpg", b"%PDF-1.4 not an image")})

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["emblem"]
    assert State.objects.get(pk=state.pk).emblem.name == ""
    assert stored_files(media_root) == []


def test_the_public_page_shows_the_photo_with_its_alt_text_caption_and_credit(admin_client, client):
    summit_with_photo(admin_client, upload("a.jpg", image_bytes("JPEG", (800, 600))))
    photo = Photo.objects.get()

    with translation.override("en"):
        html = client.get(Summit.objects.get().get_absolute_url()).content.decode()

    assert f'<img src="{photo.display.url}" alt="The leaders stand for a group photo" loading="lazy">' in html
    assert "Minsk, 2008" in html
    assert "Press service" in html


def test_a_state_shows_its_flag_until_an_emblem_replaces_it(admin_client, client):
    kazakhstan = make_state("KZ")
    with translation.override("en"):
        before = client.get(kazakhstan.get_absolute_url()).content.decode()
    assert 'src="/static/flags/kz.gif"' in before
    assert 'alt="Flag of Kazakhstan"' in before

    kazakhstan.emblem = SimpleUploadedFile("e.png", image_bytes("PNG", (300, 300)), content_type="image/png")
    kazakhstan.save()
    with translation.override("en"):
        after = client.get(kazakhstan.get_absolute_url()).content.decode()
    assert "/static/flags/kz.gif" not in after
    assert f'src="{kazakhstan.emblem.url}" alt="Emblem of Kazakhstan"' in after


def test_a_photo_edited_on_its_record_keeps_each_version_with_its_author(admin_client, admin_user):
    summit_with_photo(admin_client, upload("a.png", image_bytes("PNG", (300, 200)), "image/png"))
    summit = Summit.objects.get()
    page = admin_client.get(reverse("admin:catalog_summit_change", args=[summit.pk]))
    prefix = formset_prefix(page, Photo)
    data = {**admin_form_data(page), f"{prefix}-0-caption_en": "Minsk, 5 September 2008"}
    assert admin_client.post(page.request["PATH_INFO"], data).status_code == 302

    photo = summit.photos.get()
    versions = list(photo.history.order_by("history_date"))
    assert [(v.history_type, v.caption_en, v.history_user) for v in versions] == [
        ("+", "Minsk, 2008", admin_user),
        ("~", "Minsk, 5 September 2008", admin_user),
    ]
    assert versions[0].image == photo.image.name  # the file each version names is kept
    with translation.override("en"):
        history = admin_client.get(reverse("admin:catalog_photo_history", args=[photo.pk]))
        changes = [str(change["field"]) for change in history.context["page_obj"][0].history_delta_changes]
    assert history.status_code == 200
    assert changes == ["Caption (English)"]


def test_photos_are_listed_and_corrected_in_the_admin_but_added_on_their_record(admin_client):
    summit_with_photo(admin_client, upload("a.png", image_bytes("PNG", (300, 200)), "image/png"))
    photo = Photo.objects.get()

    listing = admin_client.get(reverse("admin:catalog_photo_changelist"))
    assert listing.status_code == 200
    assert "The leaders stand for a group photo" in listing.content.decode()
    assert admin_client.get(reverse("admin:catalog_photo_add")).status_code == 403
    page = admin_client.get(reverse("admin:catalog_photo_change", args=[photo.pk]))
    data = {**admin_form_data(page), "credit": "TASS"}
    assert admin_client.post(page.request["PATH_INFO"], data).status_code == 302
    photo.refresh_from_db()
    assert (photo.credit, photo.history.count()) == ("TASS", 2)

"""What an editor does in a real browser: export the exercises, fix one and add one in the
spreadsheet, import it back, check the preview and find the result on the public pages."""

import openpyxl
import pytest
from playwright.sync_api import expect

PASSWORD = "a-long-editor-password"


@pytest.fixture
def editor(transactional_db, django_user_model):
    """A staff user allowed to view, add and change exercises (what the Editors group grants)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("editor", password=PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=["view_exercise", "add_exercise", "change_exercise"],
        )
    )
    return user


def test_editor_fixes_a_troop_count_and_adds_an_exercise_through_a_spreadsheet(page, site, editor, tmp_path):
    page.goto(site("/en/admin/login/"))
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(site("/en/admin/catalog/exercise/"))
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Format").select_option(label="xlsx")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Submit").click()
    exported = tmp_path / "exercises.xlsx"
    download_info.value.save_as(exported)

    book = openpyxl.load_workbook(exported)
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("key")].value == "rubezh-2012":
            row[header.index("troops")].value = 2600
    new_row = dict.fromkeys(header, None)
    new_row.update(key="rubezh-2020", name_zh="防线-2020", name_en="Rubezh 2020", date="2020-09", troops=1800)
    new_row.update(series="rubezh", hosts="KG")
    sheet.append([new_row[name] for name in header])
    edited = tmp_path / "exercises-edited.xlsx"
    book.save(edited)

    page.goto(site("/en/admin/catalog/exercise/"))
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File to import").set_input_files(edited)
    page.get_by_label("Format").select_option(label="xlsx")
    page.get_by_role("button", name="Submit").click()

    changed = page.locator("table.import-preview tbody tr").filter(has_not_text="Skip")
    expect(changed).to_have_count(2)
    expect(changed.filter(has_text="New")).to_contain_text("Rubezh 2020")
    updated = changed.filter(has_text="Update")
    expect(updated).to_contain_text("rubezh-2012")
    # The preview marks the one changed cell: 2500 becomes 2600, the rest of the row is unchanged.
    expect(updated.locator("del")).to_have_text(["5"])
    expect(updated.locator("ins")).to_have_text(["6"])
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("1 new")

    page.goto(site("/en/exercises/rubezh-2012/"))
    expect(page.locator("dl")).to_contain_text("2,600")
    page.goto(site("/en/exercises/?sort=-date"))
    expect(page.locator("table.records tbody th").first).to_have_text("Rubezh 2020")
